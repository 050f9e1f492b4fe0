import type { WorkflowHandle } from '@temporalio/client';
import type { importTask } from '../../workflows/import-task';
import type { Config } from '../config/schema';
import { taskWorkflowId } from '../task-settings';
import { connectTemporal, type TemporalSession } from './connect';
import { startInProcessWorker } from './in-process-worker';
import { hasLiveWorker } from './worker-presence';
import { NoWorkerError } from '../operational-errors';

/**
 * For the commands that look at or steer a task (status, ctl, checkpoint): with the embedded dev
 * server, a workflows-only worker runs meanwhile so queries and updates are answered even when no
 * import is running; it imports nothing itself.
 */
export async function withTaskSession<T>(config: Config, work: (temporal: TemporalSession, task: WorkflowHandle<typeof importTask>) => Promise<T>): Promise<T> {
  const temporal = await connectTemporal(config);
  const worker = temporal.devServer ? await startInProcessWorker(config, temporal, true) : undefined;
  try {
    const task = temporal.client.workflow.getHandle(taskWorkflowId(config));
    if (!worker) await refuseWithoutWorker(temporal, task);
    return await work(temporal, task);
  } finally {
    await worker?.stop();
    await temporal.close();
  }
}

/** A task's state and its id (the run id of its first workflow run, whatever runs continued it). */
export async function describeTask(task: WorkflowHandle): Promise<{ status: string; taskId: string }> {
  const description = await task.describe();
  return { status: description.status.name, taskId: description.raw.workflowExecutionInfo?.firstRunId || description.runId };
}

/**
 * On a server of one's own, a running task's queries and updates wait for a worker: with none
 * polling, say so at once rather than after the call's deadline. A finished task needs none.
 */
async function refuseWithoutWorker(temporal: TemporalSession, task: WorkflowHandle<typeof importTask>): Promise<void> {
  const running = await task.describe().then(
    (description) => description.status.name === 'RUNNING',
    () => false,
  );
  if (running && !(await hasLiveWorker(temporal))) throw new NoWorkerError(task.workflowId);
}
