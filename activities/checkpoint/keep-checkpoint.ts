import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import { taskPhaseQuery, type TaskPhase } from '../../workflows/definitions';
import type { TaskSettings } from '../task-types';
import { readTaskCheckpoint } from './read-task-checkpoint';
import { saveCheckpoint, settleCheckpointAfterSuccess, type CheckpointStore } from './checkpoint-store';

export interface CheckpointDependencies {
  pool: Pool;
  /** The MySQL driver's own server, when `[checkpoint] dsn` names one; else the target. */
  checkpointPool?: Pool;
  temporalClient(): Promise<Client>;
}

export interface CheckpointInput {
  settings: TaskSettings;
  workflowId: string;
}

export function checkpointStore(settings: TaskSettings, deps: CheckpointDependencies): CheckpointStore {
  return settings.checkpoint.driver === 'file'
    ? { driver: 'file', path: settings.checkpoint.file }
    : { driver: 'mysql', pool: deps.checkpointPool ?? deps.pool, schema: settings.checkpoint.schema };
}

const intervalMs = 2000;
/** How often the phase is asked between snapshots: the task waits for this activity to end before its last snapshot. */
const phasePollMs = 500;
const activePhases = new Set<TaskPhase>(['planning', 'restoring schemas', 'prechecking', 'importing', 'waiting for operator', 'restoring views']);

/**
 * Keeps the Lightning-format snapshot current while the task imports: rewritten whenever it changed,
 * checked every two seconds, until the task is finishing (then `finishCheckpoint` writes the last one;
 * the phase is asked every half second, so the task does not wait long for this to end).
 */
export async function keepCheckpointCurrent(deps: CheckpointDependencies, input: CheckpointInput, heartbeat: () => void, signal: AbortSignal): Promise<void> {
  const store = checkpointStore(input.settings, deps);
  const client = await deps.temporalClient();
  let written = '';
  while (!signal.aborted) {
    const { model, phase } = await readTaskCheckpoint(client, deps.pool, input.settings.taskInfoSchema, input.workflowId);
    if (!activePhases.has(phase)) return;
    const serialised = JSON.stringify(model);
    if (serialised !== written) {
      await saveCheckpoint(store, model);
      written = serialised;
    }
    heartbeat();
    if (await leavesActivePhases(client, input.workflowId, signal)) return;
  }
}

/** Waits until the next snapshot is due; true as soon as the task leaves the active phases. */
async function leavesActivePhases(client: Client, workflowId: string, signal: AbortSignal): Promise<boolean> {
  for (let waited = 0; waited < intervalMs && !signal.aborted; waited += phasePollMs) {
    await new Promise((resolve) => setTimeout(resolve, phasePollMs));
    if (!activePhases.has(await client.workflow.getHandle(workflowId).query(taskPhaseQuery))) return true;
  }
  return false;
}

/** The final snapshot of a finished task, then `keep-after-success`. */
export async function finishCheckpoint(deps: CheckpointDependencies, input: CheckpointInput): Promise<void> {
  const store = checkpointStore(input.settings, deps);
  const client = await deps.temporalClient();
  const { model } = await readTaskCheckpoint(client, deps.pool, input.settings.taskInfoSchema, input.workflowId);
  await saveCheckpoint(store, model);
  await settleCheckpointAfterSuccess(store, input.settings.checkpoint.keepAfterSuccess, model.task.taskId);
}
