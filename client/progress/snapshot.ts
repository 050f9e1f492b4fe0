import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ChunkHeartbeat } from '../../activities/task-types';
import { retryingLine } from './retry-line';
import { engineSummaryQuery, tableSummaryQuery, taskSummaryQuery, type TaskSummary } from '../../workflows/definitions';

export interface TableSnapshot {
  key: string;
  status: number;
  totalBytes: number;
  doneBytes: number;
  rows: number;
  /** The last failure of a chunk Temporal is retrying (the target unreachable, say), with its attempt. */
  retrying?: string;
}

export interface ProgressSnapshot {
  state: TaskSummary;
  /** The tables being imported now (a group of small tables counts as one line). */
  tables: TableSnapshot[];
  totalBytes: number;
  doneBytes: number;
  rows: number;
  /** An activity of the task itself being retried (the target down while planning, say). */
  retrying?: string;
}

/**
 * Where the task stands, from Temporal alone, in a number of calls bounded by the tables in flight:
 * the task's counters, each running table's and engine's figures, and the heartbeats of the chunks
 * being written (committed progress, so a restarted client continues the same figures).
 */
export async function takeSnapshot(client: Client, task: WorkflowHandle): Promise<ProgressSnapshot> {
  const state = await task.query(taskSummaryQuery);
  const target = { host: state.targetHost, port: state.targetPort };
  const tables = await Promise.all(state.running.map((table) => runningTable(client, table, target)));
  const inTask = await pendingWork(task, target);
  for (const group of state.smallGroups) {
    const work = inTask.find((beat) => beat.table !== undefined && group.keys.includes(beat.table));
    tables.push({
      key: group.keys.length === 1 ? group.keys[0] : `${group.keys.length} small tables (${group.keys[0]} …)`,
      status: 30,
      totalBytes: group.totalBytes,
      doneBytes: Math.min(group.totalBytes, work?.diskBytes ?? 0),
      rows: work?.rows ?? 0,
      retrying: work?.retrying ?? inTask.find((beat) => beat.retrying)?.retrying,
    });
  }
  return {
    state,
    tables,
    totalBytes: state.plan?.totalBytes ?? 0,
    doneBytes: state.counts.finishedBytes + tables.reduce((sum, table) => sum + table.doneBytes, 0),
    rows: state.counts.finishedRows + tables.reduce((sum, table) => sum + table.rows, 0),
    retrying: inTask.find((beat) => beat.retrying)?.retrying,
  };
}

type Target = { host: string; port: number };

async function runningTable(client: Client, table: TaskSummary['running'][number], target: Target): Promise<TableSnapshot> {
  const base: TableSnapshot = { key: table.key, status: 30, totalBytes: table.totalBytes, doneBytes: 0, rows: 0 };
  try {
    const summary = await client.workflow.getHandle(table.workflowId).query(tableSummaryQuery);
    const engines = await Promise.all(
      summary.runningEngines.map(async (engine) => {
        const handle = client.workflow.getHandle(engine.workflowId);
        const [done, pending] = await Promise.all([handle.query(engineSummaryQuery), pendingWork(handle, target)]);
        return {
          rows: done.rows + pending.reduce((sum, beat) => sum + beat.rows, 0),
          doneBytes: done.doneBytes + pending.reduce((sum, beat) => sum + beat.diskBytes, 0),
          retrying: pending.find((beat) => beat.retrying)?.retrying,
        };
      }),
    );
    return {
      ...base,
      status: summary.status,
      rows: summary.rows + engines.reduce((sum, engine) => sum + engine.rows, 0),
      doneBytes: Math.min(table.totalBytes, summary.doneBytes + engines.reduce((sum, engine) => sum + engine.doneBytes, 0)),
      retrying: engines.find((engine) => engine.retrying)?.retrying,
    };
  } catch {
    // Not started yet, or between runs: nothing to add.
    return base;
  }
}

interface PendingWork {
  rows: number;
  diskBytes: number;
  table?: string;
  /** The last failure of an activity being retried, with its attempt. */
  retrying?: string;
}

/** What each activity of a workflow in progress has committed (its heartbeats). */
async function pendingWork(handle: WorkflowHandle, target: Target): Promise<PendingWork[]> {
  const description = await handle.describe();
  return (description.raw.pendingActivities ?? []).map((activity) => {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const beat = payload ? defaultPayloadConverter.fromPayload<Partial<ChunkHeartbeat>>(payload) : undefined;
    const attempt = activity.attempt ?? 1;
    const retrying = attempt > 1 && activity.lastFailure?.message ? retryingLine(activity.activityType?.name ?? 'activity', attempt, activity.lastFailure.message, target) : undefined;
    return { rows: beat?.rows ?? 0, diskBytes: beat?.diskBytes ?? 0, table: beat?.table, retrying };
  });
}
