/*
 * The task workflow of Tempest 0.1, kept as it was so that a task it started finishes after the
 * upgrade (test/integration/replay.test.ts replays its recorded histories). New tasks run
 * workflows/import-task.ts; delete this folder once no 0.1 task can still be running.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ImportTableInput, ImportTableResult } from './import-table';
import type { Activities } from '../../activities';
import type { ChunkBoundaries } from '../../activities/source/plan-chunks';
import type { TablePlan, TaskSettings } from '../../activities/task-types';
import { CheckpointStatus, isFailedStatus } from '../checkpoint-status';
import {
  checkpointCtlUpdate,
  tableWrittenSignal,
  taskStateQuery,
  type CheckpointCtlRequest,
  type CheckpointCtlResponse,
  type ImportTaskInput,
  type TableFailure,
  type TableState,
  type TaskState,
} from './definitions';

const {
  planSource,
  prepareTarget,
  takeOverCheckpoint,
  restoreSchemas,
  precheckTables,
  restoreViews,
  destroyTable,
  forgetTableProgress,
  forgetTaskProgress,
  finishCheckpoint,
} =
  proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { maximumInterval: '30 seconds' },
  });

/**
 * Runs as long as the task imports; cancelled once the task is finishing, and waited for, so that
 * no snapshot of it lands after the last one.
 */
const { keepCheckpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '365 days',
  heartbeatTimeout: '10 seconds',
  retry: { maximumInterval: '30 seconds' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export interface ImportTaskResult {
  tables: Array<Pick<TableState, 'key' | 'status' | 'rows' | 'verify'>>;
}

/**
 * One import: plan the dump, create the schemas, check the target, import every table (each a
 * child workflow, at most table-concurrency writing at once), then create the views. A table that fails
 * waits, durably, for the operator's `tempest ctl` while the others go on.
 */
export async function importTaskOfRelease01({ settings: given }: ImportTaskInput): Promise<ImportTaskResult> {
  const settings: TaskSettings = { ...given, taskId: workflowInfo().firstExecutionRunId };
  const state: TaskState = {
    taskId: settings.taskId,
    phase: 'planning',
    sourceDir: settings.sourceDir,
    target: `${settings.target.user}@${settings.target.host}:${settings.target.port}`,
    targetHost: settings.target.host,
    targetPort: settings.target.port,
    tables: [],
  };
  setHandler(taskStateQuery, () => state);
  /** Tables to (re)import, in order; `ctl` puts failed ones back. */
  const queue: number[] = [];
  /** Tables whose target table and progress are dropped before their next import. */
  const destroyBeforeImport = new Set<number>();
  setHandler(checkpointCtlUpdate, (request) => applyCtl(request, state, queue, destroyBeforeImport, settings));

  try {
    const plan = await planSource(settings);
    state.tables = plan.tables.map((table) => ({
      key: table.key,
      schema: table.schema,
      name: table.name,
      status: CheckpointStatus.loaded,
      totalBytes: table.totalBytes,
      doneBytes: 0,
      rows: 0,
      childWorkflowId: `${workflowInfo().workflowId}/${table.key}`,
    }));
    await prepareTarget(settings);
    const checkpointInput = { settings, workflowId: workflowInfo().workflowId };
    const takenOver = settings.checkpoint.enable ? await takeOverCheckpoint({ settings, tables: plan.tables }) : undefined;
    if (takenOver) state.takenOver = { source: takenOver.source, tables: takenOver.tables, chunks: takenOver.chunks, rows: takenOver.rows };
    const keeper = new CancellationScope();
    const keeping = settings.checkpoint.enable ? keeper.run(() => keepCheckpoint(checkpointInput)) : undefined;
    // Tasks started before restoreSchemas said which tables wait for their indexes got nothing back.
    let deferredIndexTables: string[] = [];
    if (!settings.noSchema) {
      state.phase = 'restoring schemas';
      deferredIndexTables = (await restoreSchemas({ databases: plan.databases, tables: plan.tables, settings })) ?? [];
    }
    state.phase = 'prechecking';
    await precheckTables({ taskId: settings.taskId, taskInfoSchema: settings.taskInfoSchema, tables: plan.tables });

    state.phase = 'importing';
    queue.push(...importOrder(plan.tables, deferredIndexTables));
    await importQueuedTables(settings, plan.tables, state, queue, destroyBeforeImport, takenOver?.chunkBoundaries ?? {});

    if (!settings.noSchema && plan.views.length > 0) {
      state.phase = 'restoring views';
      await restoreViews({ views: plan.views });
    }
    // The keeper stops (cancelled, or seeing this phase), so the last snapshot is written once, here.
    state.phase = 'finishing';
    if (keeping) {
      // Tasks started before the keeper was cancelled here replay without it: theirs ends on seeing the phase.
      if (patched('keeper-cancelled-when-finishing')) {
        keeper.cancel();
        // It is waited for only to know it stopped: how (cancelled, or a failed attempt while retrying) does not matter.
        await keeping.catch(() => undefined);
      } else {
        await keeping;
      }
      await finishCheckpoint(checkpointInput);
    }
    await forgetTaskProgress(settings);
    state.phase = 'finished';
    return { tables: state.tables.filter((table) => !table.removed).map(({ key, status, rows, verify }) => ({ key, status, rows, verify })) };
  } catch (error) {
    state.phase = 'failed';
    state.error = error instanceof Error ? error.message : String(error);
    throw error;
  }
}

/**
 * The order tables start in: those whose indexes are built after their rows first, so that the
 * build (one core of the target, for a while) overlaps other tables' loading instead of running
 * alone at the end; the others as planned.
 */
function importOrder(tables: readonly TablePlan[], deferredIndexTables: readonly string[]): number[] {
  const indexes = tables.map((_, index) => index);
  const first = indexes.filter((index) => deferredIndexTables.includes(tables[index].key));
  return [...first, ...indexes.filter((index) => !deferredIndexTables.includes(tables[index].key))];
}

/**
 * Imports queued tables until none is queued or running and none waits for the operator. At most
 * table-concurrency tables are written at once: a table whose chunks are all written (it says so
 * with `tableWritten`) leaves its place to the next while it is verified and its indexes are built.
 * Counting those, at most twice table-concurrency tables are under way.
 */
async function importQueuedTables(
  settings: TaskSettings,
  tables: TablePlan[],
  state: TaskState,
  queue: number[],
  destroyBeforeImport: Set<number>,
  boundaries: ChunkBoundaries,
): Promise<void> {
  /** Running tables whose rows are not all written yet. */
  const writing = new Set<number>();
  setHandler(tableWrittenSignal, (key) => {
    writing.delete(tables.findIndex((table) => table.key === key));
  });
  const limit = settings.tableConcurrency;
  const running = () => state.tables.filter((table) => table.running).length;
  const waitingForOperator = () => state.tables.some((table) => isFailedStatus(table.status) && !table.removed);
  for (;;) {
    await condition(() => (queue.length > 0 && writing.size < limit && running() < 2 * limit) || (queue.length === 0 && running() === 0));
    if (queue.length === 0) {
      if (!waitingForOperator()) return;
      state.phase = 'waiting for operator';
      await condition(() => queue.length > 0 || !waitingForOperator());
      state.phase = 'importing';
      continue;
    }
    const index = queue.shift()!;
    writing.add(index);
    void importOneTable(settings, tables[index], state.tables[index], destroyBeforeImport.delete(index), boundaries).finally(() => writing.delete(index));
  }
}

async function importOneTable(settings: TaskSettings, table: TablePlan, tableState: TableState, destroyFirst: boolean, boundaries: ChunkBoundaries): Promise<void> {
  tableState.running = true;
  try {
    if (destroyFirst) await destroyTable({ settings, table });
    // A destroyed table starts over: the old checkpoint's cut no longer applies to it.
    const tableBoundaries = destroyFirst ? {} : pickBoundaries(boundaries, table);
    const result = await executeChild<(input: ImportTableInput) => Promise<ImportTableResult>>('importTable', { workflowId: tableState.childWorkflowId, args: [{ settings, table, boundaries: tableBoundaries }] });
    Object.assign(tableState, { status: result.status, rows: result.rows, verify: result.verify, doneBytes: table.totalBytes });
  } catch (error) {
    const cause = error instanceof ChildWorkflowFailure ? error.cause : error;
    const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as { status?: number; failure?: TableFailure } | undefined) : undefined;
    tableState.status = details?.status ?? Math.floor(CheckpointStatus.allWritten / 10);
    tableState.failure = details?.failure ?? { type: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
  } finally {
    tableState.running = false;
  }
}

function pickBoundaries(boundaries: ChunkBoundaries, table: TablePlan): ChunkBoundaries {
  return Object.fromEntries(table.dataFiles.filter((file) => boundaries[file.path]).map((file) => [file.path, boundaries[file.path]]));
}

/** The `tidb-lightning-ctl` checkpoint commands, applied to a running task. */
function applyCtl(
  request: CheckpointCtlRequest,
  state: TaskState,
  queue: number[],
  destroyBeforeImport: Set<number>,
  settings: TaskSettings,
): CheckpointCtlResponse {
  const response: CheckpointCtlResponse = { changed: [], messages: [] };
  const indexes =
    request.tables === 'all'
      ? state.tables.map((_, index) => index).filter((index) => request.action === 'remove' || isFailedStatus(state.tables[index].status))
      : request.tables.map((name) => state.tables.findIndex((table) => table.key === name));
  if (request.tables === 'all' && indexes.length === 0) response.messages.push(request.action === 'remove' ? 'the task has no tables' : 'no table has failed: nothing changed');
  for (const [position, index] of indexes.entries()) {
    if (index < 0) {
      const name = (request.tables as string[])[position];
      response.messages.push(`${name}: not a table of this task (write it as \`db\`.\`table\`, as the status lists it): nothing changed`);
      continue;
    }
    const table = state.tables[index];
    if (request.action === 'remove') {
      if (table.removed) {
        response.messages.push(`${table.key}: already removed`);
        continue;
      }
      if (table.running) {
        response.messages.push(`${table.key}: being imported; remove it after it finishes or fails`);
        continue;
      }
      // Not awaited: with no import running, nothing would run it, and the answer should not wait for that.
      void forgetTableProgress({ settings, tableKey: table.key }).catch(() => undefined);
      const queued = queue.indexOf(index);
      if (queued >= 0) queue.splice(queued, 1);
      Object.assign(table, { removed: true, status: CheckpointStatus.missing, failure: undefined });
      response.changed.push(table.key);
      response.messages.push(`${table.key}: checkpoint removed; the table is no longer part of this task`);
      continue;
    }
    if (!isFailedStatus(table.status)) {
      response.messages.push(`${table.key}: has not failed (it is ${describe(table)}): nothing changed`);
      continue;
    }
    if (request.action === 'destroy') destroyBeforeImport.add(index);
    Object.assign(table, { status: CheckpointStatus.loaded, failure: undefined, doneBytes: 0, rows: 0 });
    queue.push(index);
    response.changed.push(table.key);
    response.messages.push(
      request.action === 'destroy'
        ? `${table.key}: the target table and its progress are dropped; it is imported again from scratch`
        : `${table.key}: back to loaded; it resumes from its chunk positions`,
    );
  }
  return response;
}

function describe(table: TableState): string {
  if (table.running) return 'being imported';
  return table.status === CheckpointStatus.loaded ? 'waiting to be imported' : 'finished';
}
