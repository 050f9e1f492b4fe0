import { NativeConnection } from '@temporalio/worker';
import { createImportWorker } from '../../worker/create-worker';
import type { Config } from '../config/schema';
import { installLogging } from '../logging';
import { workerOptionsOf } from '../worker-options';
import { embeddedServerOptions, ensureDevServer } from '../temporal/dev-server';

/**
 * `tempest worker`: runs import workflows and activities for the configured task queue until
 * stopped. More workers, on more machines, share the work of one task.
 */
export async function runWorker(config: Config, out: (line: string) => void): Promise<number> {
  const temporal = config.temporal;
  const address = temporal.address || (await ensureDevServer(embeddedServerOptions(temporal))).address;
  installLogging(config.lightning.level, config.lightning.file || undefined);
  const connection = await NativeConnection.connect({ address });
  const worker = await createImportWorker(workerOptionsOf(config, connection, address));
  process.once('SIGINT', worker.shutdown);
  process.once('SIGTERM', worker.shutdown);
  out(`worker on ${address}, namespace ${temporal.namespace}, task queue ${temporal['task-queue']}, ${config.lightning['region-concurrency']} chunks at once`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  return 0;
}
