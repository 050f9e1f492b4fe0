import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { tablesRequeuedSignal, type CheckpointCtlRequest } from '../../workflows/definitions';
import { checkpointCtlUpdate as release01CtlUpdate } from '../../workflows/legacy/definitions';
import { applyCtlToQueue } from '../../activities/plan/table-queue';
import { readPlanSummary } from '../../activities/plan/store-plan';
import type { TaskRef } from '../../activities/task-types';
import { readStoredCheckpoint } from '../../activities/checkpoint/read-stored-checkpoint';
import { writeCheckpointDump } from '../../activities/checkpoint/csv-dump';
import { createTargetPool } from '../../activities/database/connection';
import { deleteTaskPlan } from '../../activities/plan/plan-tables';
import type { Config } from '../config/schema';
import { targetSettingsOf } from '../task-settings';
import { describeTask, withTaskSession } from '../temporal/task-session';
import type { TemporalSession } from '../temporal/connect';
import { UserError } from '../user-error';

export interface CtlOptions {
  requests: CheckpointCtlRequest[];
  dumpDir?: string;
  selector: string;
}

/** `tempest ctl`: the `tidb-lightning-ctl` checkpoint commands, sent to the task. */
export function runCtl(config: Config, options: CtlOptions, out: (line: string) => void): Promise<number> {
  if (options.requests.length === 0 && !options.dumpDir) {
    throw new UserError('nothing to do: give --checkpoint-error-ignore, --checkpoint-error-destroy, --checkpoint-remove or --checkpoint-dump');
  }
  return withTaskSession(config, async (temporal, task) => {
    let status: string;
    let taskId: string;
    try {
      ({ status, taskId } = await describeTask(task));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new UserError(`no task ${task.workflowId}: nothing to change (start it with \`tempest import ${options.selector}\`)`);
      throw error;
    }
    const taskInfoSchema = config.lightning['task-info-schema-name'];
    if (options.dumpDir) {
      const pool = createTargetPool(targetSettingsOf(config), 2);
      try {
        const files = await writeCheckpointDump(options.dumpDir, await readStoredCheckpoint(pool, { taskId, taskInfoSchema }));
        out(`checkpoint dumped: ${files.join(', ')}`);
      } finally {
        await pool.end();
      }
    }
    if (options.requests.length === 0) return 0;
    if (status !== 'RUNNING') return removeFinishedTask(config, temporal, task, { taskId, taskInfoSchema }, options, out);
    const changed = await applyToRunningTask(config, task, { taskId, taskInfoSchema }, options.requests, out);
    if (changed > 0 && temporal.devServer) out(`run \`tempest import ${options.selector}\` to carry on with the task and follow it`);
    return 0;
  });
}

/**
 * The commands change the task's table queue on the target (which refuses what may not change,
 * such as removing a table being imported), then tell the task to look at it again. A task of
 * Tempest 0.1 keeps its tables in its workflow: it is sent the commands as an update.
 */
async function applyToRunningTask(config: Config, task: WorkflowHandle, ref: TaskRef, requests: readonly CheckpointCtlRequest[], out: (line: string) => void): Promise<number> {
  let changed = 0;
  let release01 = false;
  const pool = createTargetPool(targetSettingsOf(config), 1);
  try {
    release01 = !(await readPlanSummary(pool, ref));
    for (const request of requests) {
      const response = release01 ? await task.executeUpdate(release01CtlUpdate, { args: [request] }) : await applyCtlToQueue(pool, ref, request);
      response.messages.forEach((message) => out(message));
      changed += response.changed.length;
    }
  } finally {
    await pool.end();
  }
  if (changed > 0 && !release01) await task.signal(tablesRequeuedSignal);
  return changed;
}

/**
 * A task that ended changes no more: its checkpoint can only be removed as a whole, as Lightning's
 * `--checkpoint-remove=all` does (the task's history and what it kept on the target go), after
 * which `tempest import` starts a new task.
 */
async function removeFinishedTask(
  config: Config,
  temporal: TemporalSession,
  task: WorkflowHandle,
  ref: { taskId: string; taskInfoSchema: string },
  options: CtlOptions,
  out: (line: string) => void,
): Promise<number> {
  const removeAll = options.requests.some((request) => request.action === 'remove' && request.tables === 'all');
  if (!removeAll) {
    const failedOnes = options.requests.some((request) => request.action !== 'remove');
    throw new UserError(
      failedOnes
        ? `task ${task.workflowId} has ended: no table waits for the operator, nothing changed`
        : `task ${task.workflowId} has ended: its checkpoint is removed as a whole, with --checkpoint-remove=all`,
    );
  }
  const pool = createTargetPool(targetSettingsOf(config), 1);
  try {
    await deleteTaskPlan(pool, ref.taskInfoSchema, ref.taskId);
  } finally {
    await pool.end();
  }
  await temporal.client.workflowService.deleteWorkflowExecution({ namespace: temporal.namespace, workflowExecution: { workflowId: task.workflowId } });
  // The server deletes in the background: the next `import` must not find the task still there.
  await gone(task);
  out(`task ${task.workflowId}: checkpoint removed; \`tempest import ${options.selector}\` starts a new task (the target tables must be empty again, or dropped)`);
  return 0;
}

async function gone(task: WorkflowHandle): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 200) {
    try {
      await task.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new UserError(`task ${task.workflowId}: Temporal has not deleted it after 30 s; run the command again`);
}
