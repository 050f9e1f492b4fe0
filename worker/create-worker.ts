import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createTargetPool, type TargetSettings } from '../activities/target/connection';

export interface ImportWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  target: TargetSettings;
  /** Chunks this worker imports at once (`region-concurrency`). */
  regionConcurrency: number;
  /** A prebuilt workflow bundle (tests build one once); by default the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** A worker that runs import workflows and activities, writing to the target with its own credentials. */
export async function createImportWorker(options: ImportWorkerOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  // Besides the chunks: planning, verification and schema work run alongside.
  const activitySlots = options.regionConcurrency + 2;
  const pool = createTargetPool(options.target, activitySlots + 2);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ pool }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    maxConcurrentActivityTaskExecutions: activitySlots,
    // A chunk that notices cancellation stops at its next batch; give it time to commit that batch.
    shutdownGraceTime: '10 seconds',
  });
  return { worker, close: () => pool.end() };
}
