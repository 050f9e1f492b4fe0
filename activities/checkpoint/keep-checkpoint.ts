import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import type { TaskPhase } from '../../workflows/definitions';
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
const activePhases = new Set<TaskPhase>(['planning', 'restoring schemas', 'prechecking', 'importing', 'waiting for operator', 'restoring views']);

/**
 * Keeps the Lightning-format snapshot current while the task imports: rewritten whenever it changed,
 * checked every two seconds, until the task is finishing (then `finishCheckpoint` writes the last one).
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
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The final snapshot of a finished task, then `keep-after-success`. */
export async function finishCheckpoint(deps: CheckpointDependencies, input: CheckpointInput): Promise<void> {
  const store = checkpointStore(input.settings, deps);
  const client = await deps.temporalClient();
  const { model } = await readTaskCheckpoint(client, deps.pool, input.settings.taskInfoSchema, input.workflowId);
  await saveCheckpoint(store, model);
  await settleCheckpointAfterSuccess(store, input.settings.checkpoint.keepAfterSuccess, model.task.taskId);
}
