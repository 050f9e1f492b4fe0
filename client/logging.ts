import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';

const levels: Record<string, LogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/**
 * Sends the worker's log (Temporal SDK and activities) to `file`, or to stderr when none is given.
 * Activities never put passwords or row data in what they log or throw (activities/failures.ts).
 */
export function installLogging(level: string, file: string | undefined): void {
  let write: (line: string) => void;
  if (file) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = fs.openSync(file, 'a');
    write = (line) => fs.writeSync(fd, line);
  } else {
    write = (line) => process.stderr.write(line);
  }
  const logger = new DefaultLogger(levels[level] ?? 'INFO', (entry: LogEntry) => {
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    const meta = entry.meta && Object.keys(entry.meta).length > 0 ? ' ' + util.inspect(entry.meta, { depth: 3, breakLength: Infinity }) : '';
    write(`${time} [${entry.level}] ${entry.message}${meta}\n`);
  });
  Runtime.install({ logger });
}
