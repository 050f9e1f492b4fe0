import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './free-port';

/** A tidb-server of our own: one process, unistore storage in memory, root without a password. */
export interface TidbServer {
  host: string;
  port: number;
  /** Its HTTP status port (Lightning asks it for table information). */
  statusPort: number;
  /** Its process, whose CPU the benchmark measures. */
  pid: number;
  /** Where its log is, for a failure's message. */
  logFile: string;
  stop(): Promise<void>;
}

/** The directory of tidb-server, tidb-lightning and tidb-lightning-ctl: scripts/ensure-tidb.sh builds them once per machine. */
export function tidbBinDir(): string {
  const script = path.resolve(__dirname, '../../../scripts/ensure-tidb.sh');
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** Starts tidb-server on free ports and resolves once it answers SQL (about 6 s). */
export async function startTidbServer(): Promise<TidbServer> {
  const [port, statusPort] = [await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-tidb-'));
  const logFile = path.join(dir, 'tidb.log');
  const host = '127.0.0.1';
  // -path "" keeps unistore's data in memory; the temp dir and no socket keep two servers apart.
  const child = spawn(
    path.join(tidbBinDir(), 'tidb-server'),
    ['-store', 'unistore', '-path', '', '-host', host, '-P', String(port), '-status-host', host, '-status', String(statusPort), '-temp-dir', dir, '-socket', '', '-log-file', logFile],
    { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'stderr.log'), 'a')] },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(child, host, port, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, port, statusPort, pid: child.pid!, logFile, stop };
}

async function waitUntilAnswering(child: ChildProcess, host: string, port: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tidb-server exited with code ${child.exitCode} before it answered; see ${logFile}`);
    try {
      const connection = await mysql.createConnection({ host, port, user: 'root', password: '', connectTimeout: 2_000 });
      await connection.query('SELECT 1');
      await connection.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`tidb-server did not answer on ${host}:${port} within 120 s (${(error as Error).message}); see ${logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
