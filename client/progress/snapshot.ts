import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ChunkHeartbeat } from '../../activities/task-types';
import { isFailedStatus } from '../../workflows/checkpoint-status';
import { tableProgressQuery, taskStateQuery, type TaskState } from '../../workflows/definitions';

export interface TableSnapshot {
  key: string;
  status: number;
  totalBytes: number;
  doneBytes: number;
  rows: number;
  running: boolean;
  error?: string;
  /** The last failure of a chunk Temporal is retrying (the target unreachable, say). */
  retrying?: string;
}

export interface ProgressSnapshot {
  state: TaskState;
  tables: TableSnapshot[];
  totalBytes: number;
  doneBytes: number;
  rows: number;
}

/**
 * Where the task stands, from Temporal alone: the task's and tables' queries for finished chunks,
 * and the heartbeats of running chunks. All of it is durable, so a restarted client continues
 * the same figures.
 */
export async function takeSnapshot(client: Client, task: WorkflowHandle): Promise<ProgressSnapshot> {
  const state = await task.query(taskStateQuery);
  const tables = await Promise.all(state.tables.map((table) => tableSnapshot(client, table)));
  return {
    state,
    tables,
    totalBytes: tables.reduce((sum, table) => sum + table.totalBytes, 0),
    doneBytes: tables.reduce((sum, table) => sum + table.doneBytes, 0),
    rows: tables.reduce((sum, table) => sum + table.rows, 0),
  };
}

async function tableSnapshot(client: Client, table: TaskState['tables'][number]): Promise<TableSnapshot> {
  const base: TableSnapshot = {
    key: table.key,
    status: table.status,
    totalBytes: table.totalBytes,
    doneBytes: table.doneBytes,
    rows: table.rows,
    running: false,
    error: table.failure?.message,
  };
  if (table.doneBytes >= table.totalBytes && table.totalBytes > 0) return base;
  if (isFailedStatus(table.status) || table.removed || !table.running) return base;
  const child = client.workflow.getHandle(table.childWorkflowId);
  try {
    const [progress, description] = await Promise.all([child.query(tableProgressQuery), child.describe()]);
    if (description.status.name !== 'RUNNING') return { ...base, status: progress.status };
    let doneBytes = 0;
    let rows = 0;
    for (const chunk of progress.chunks) {
      if (chunk.status === 'finished') {
        doneBytes += chunk.diskBytes;
        rows += chunk.rows;
      }
    }
    let retrying: string | undefined;
    for (const activity of description.raw.pendingActivities ?? []) {
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (payload) {
        const beat = defaultPayloadConverter.fromPayload<ChunkHeartbeat>(payload);
        doneBytes += beat.diskBytes;
        rows += beat.rows;
      }
      if ((activity.attempt ?? 1) > 1 && activity.lastFailure?.message) retrying = activity.lastFailure.message;
    }
    return { ...base, status: progress.status, doneBytes: Math.min(doneBytes, table.totalBytes), rows, running: true, retrying };
  } catch {
    // The child has not started yet.
    return base;
  }
}
