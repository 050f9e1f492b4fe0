import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import type { TaskPhase } from '../../workflows/definitions';
import { loadTaskSettings } from '../plan/task-plan';
import type { TaskRef, TaskSettings } from '../task-types';
import { readStoredCheckpoint } from './read-stored-checkpoint';
import { readTaskCheckpoint, type IdleTableAnswers } from './read-task-checkpoint';
import { keepsSnapshot, saveCheckpoint, settleCheckpointAfterSuccess, type CheckpointStore } from './checkpoint-store';
import { lightningTaskId } from './checkpoint-model';

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
/**
 * How often it heartbeats meanwhile. The task's cancellation reaches an activity only in the answer
 * to a heartbeat (the worker sends them this often: worker/create-worker.ts), and the task waits for
 * this one to end before its last snapshot.
 */
export const keeperHeartbeatMs = 200;
const activePhases = new Set<TaskPhase>(['planning', 'restoring schemas', 'prechecking', 'importing', 'waiting for operator', 'restoring views']);

/**
 * Keeps the Lightning-format snapshot current while the task imports: rewritten whenever it changed,
 * checked every two seconds, until the task cancels it when finishing (then `finishCheckpoint` writes
 * the last one). Tasks started before they cancelled it end it by leaving the active phases.
 */
export async function keepCheckpointCurrent(deps: CheckpointDependencies, input: CheckpointInput, heartbeat: () => void, signal: AbortSignal): Promise<void> {
  const store = checkpointStore(input.settings, deps);
  const client = await deps.temporalClient();
  const idleAnswers: IdleTableAnswers = new Map();
  let written = '';
  while (!signal.aborted) {
    const { model, phase } = await readTaskCheckpoint(client, deps.pool, input.settings.taskInfoSchema, input.workflowId, idleAnswers);
    if (!activePhases.has(phase)) return;
    const serialised = JSON.stringify(model);
    if (serialised !== written) {
      await saveCheckpoint(store, model);
      written = serialised;
    }
    await heartbeatFor(intervalMs, heartbeat, signal);
  }
}

/** Waits `ms`, heartbeating, or less when cancelled. */
async function heartbeatFor(ms: number, heartbeat: () => void, signal: AbortSignal): Promise<void> {
  for (let waited = 0; waited < ms && !signal.aborted; waited += keeperHeartbeatMs) {
    heartbeat();
    // Cancellation ends the wait early (the sleep rejects with an AbortError).
    await sleep(keeperHeartbeatMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * The final snapshot of a finished task, then `keep-after-success`. A snapshot that would be
 * removed at once is not taken: reading it queries every table's workflow, each closed by now
 * (the worker replays its history to answer).
 */
export async function finishCheckpoint(deps: CheckpointDependencies, input: CheckpointInput): Promise<void> {
  const store = checkpointStore(input.settings, deps);
  const keep = input.settings.checkpoint.keepAfterSuccess;
  if (keepsSnapshot(keep)) {
    const client = await deps.temporalClient();
    const { model } = await readTaskCheckpoint(client, deps.pool, input.settings.taskInfoSchema, input.workflowId);
    await saveCheckpoint(store, model);
  }
  await settleCheckpointAfterSuccess(store, keep, lightningTaskId(input.settings.taskId));
}

/**
 * Keeps the Lightning-format snapshot of a task current from what it stores on the target, until
 * cancelled. Reading a large task's snapshot takes a while: it waits five times as long as the
 * last read and write took (two seconds at least), so the snapshot never costs the import more
 * than a sixth of a connection.
 */
export async function keepStoredCheckpointCurrent(deps: CheckpointDependencies, task: TaskRef, heartbeat: () => void, signal: AbortSignal): Promise<void> {
  const store = checkpointStore(await loadTaskSettings(deps.pool, task), deps);
  let written = '';
  while (!signal.aborted) {
    const started = performance.now();
    // A large task's snapshot takes longer to read and write than the heartbeat timeout.
    const beating = setInterval(heartbeat, 1000);
    try {
      const model = await readStoredCheckpoint(deps.pool, task);
      const serialised = JSON.stringify(model);
      if (serialised !== written) {
        await saveCheckpoint(store, model);
        written = serialised;
      }
    } finally {
      clearInterval(beating);
    }
    await heartbeatFor(Math.max(intervalMs, 5 * (performance.now() - started)), heartbeat, signal);
  }
}

/** The final snapshot of a finished task (only when `keep-after-success` keeps it), then `keep-after-success`. */
export async function finishStoredCheckpoint(deps: CheckpointDependencies, task: TaskRef): Promise<void> {
  const settings = await loadTaskSettings(deps.pool, task);
  const store = checkpointStore(settings, deps);
  const keep = settings.checkpoint.keepAfterSuccess;
  if (keepsSnapshot(keep)) await saveCheckpoint(store, await readStoredCheckpoint(deps.pool, task));
  await settleCheckpointAfterSuccess(store, keep, lightningTaskId(task.taskId));
}
