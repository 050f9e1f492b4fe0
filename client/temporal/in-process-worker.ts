import { NativeConnection } from '@temporalio/worker';
import { createImportWorker } from '../../worker/create-worker';
import type { Config } from '../config/schema';
import { workerOptionsOf } from '../worker-options';
import type { TemporalSession } from './connect';

export interface InProcessWorker {
  stop(): Promise<void>;
}

/**
 * With the embedded dev server nobody else runs workers: each command that needs the task to make
 * progress (import, status, ctl) runs one in its own process while it works.
 */
export async function startInProcessWorker(config: Config, temporal: TemporalSession, workflowsOnly = false): Promise<InProcessWorker> {
  const connection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createImportWorker({ ...workerOptionsOf(config, connection, temporal.address), workflowsOnly });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
      })()),
  };
}
