import { exitCodes } from './exit-codes';
import type { InProcessWorker } from './temporal/in-process-worker';
import type { TemporalSession } from './temporal/connect';

/**
 * How long an interrupted import lets its embedded worker finish: a chunk in flight is cut off after
 * that, which is safe (its batch rolls back with its position) and keeps Ctrl-C under a second.
 */
const workerGraceMs = 500;

export interface Interruptible {
  worker?: InProcessWorker;
  temporal?: TemporalSession;
}

/**
 * Makes SIGINT and SIGTERM end the command within a second, saying what becomes of the task, with
 * exit code 130 or 143. `parts` is read when a signal arrives: what the command has started by then.
 * A second signal exits at once. Returns the function that removes the handlers.
 */
export function exitOnInterrupt(message: () => string, out: (line: string) => void, parts: () => Interruptible): () => void {
  let interrupted = false;
  const handle = (signal: 'SIGINT' | 'SIGTERM') => {
    const code = exitCodes.interrupted[signal];
    if (interrupted) process.exit(code);
    interrupted = true;
    out(message());
    const { worker, temporal } = parts();
    const graceOver = new Promise((resolve) => setTimeout(resolve, workerGraceMs));
    void Promise.race([worker?.stop(), graceOver])
      .catch(() => undefined)
      .finally(async () => {
        // The embedded server is told to stop (it finishes on its own); nothing else is waited for.
        await temporal?.devServer?.stop().catch(() => undefined);
        process.exit(code);
      });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return () => {
    process.removeListener('SIGINT', handle);
    process.removeListener('SIGTERM', handle);
  };
}
