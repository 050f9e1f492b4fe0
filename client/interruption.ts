import { exitCodes } from './exit-codes';
import { stopSpawnedDevServers } from './temporal/dev-server';
import type { InProcessWorker } from './temporal/in-process-worker';

/**
 * How long an interrupted import lets its embedded worker finish: a chunk in flight is cut off after
 * that, which is safe (its batch rolls back with its position) and keeps Ctrl-C under a second.
 */
const workerGraceMs = 500;

/**
 * Makes SIGINT and SIGTERM end the command within a second, saying what becomes of the task, with
 * exit code 130 or 143. `embeddedWorker` is asked when a signal arrives: the worker started by then, if any.
 * A second signal exits at once. Returns the function that removes the handlers.
 */
export function exitOnInterrupt(message: () => string, out: (line: string) => void, embeddedWorker: () => InProcessWorker | undefined): () => void {
  let interrupted = false;
  const handle = (signal: 'SIGINT' | 'SIGTERM') => {
    const code = exitCodes.interrupted[signal];
    if (interrupted) process.exit(code);
    interrupted = true;
    out(message());
    const graceOver = new Promise((resolve) => setTimeout(resolve, workerGraceMs));
    void Promise.race([embeddedWorker()?.stop(), graceOver])
      .catch(() => undefined)
      .finally(() => {
        // The embedded server is told to stop (it finishes on its own), booted or not; nothing else is waited for.
        stopSpawnedDevServers();
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
