import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PlanSummary } from '../activities/plan/store-plan';
import type { TableCounts } from '../activities/plan/table-queue';
import type { TaskRef, TaskSettings } from '../activities/task-types';
import type { CheckpointStatusCode } from './checkpoint-status';

/**
 * The workflows' inputs, queries, signals and updates. Every one of them is bounded: a task of
 * 10,000 tables and a table of 100,000 chunks carry counters and the few tables and engines in
 * flight, never a list of all of them (those live in the task-info schema, see activities/plan/).
 */

export interface ImportTaskInput {
  settings: Omit<TaskSettings, 'taskId'>;
  /** 2 for the workflows of this release; absent in tasks started by Tempest 0.1 (workflows/legacy/). */
  generation?: 2;
  /** What a run hands to the next when it continues as new. */
  carried?: TaskCarry;
}

export type TaskPhase =
  | 'planning'
  | 'restoring schemas'
  | 'prechecking'
  | 'importing'
  | 'waiting for operator'
  | 'restoring views'
  | 'finishing'
  | 'finished'
  | 'failed';

/** A table whose workflow runs. */
export interface RunningTable {
  key: string;
  ordinal: number;
  workflowId: string;
  totalBytes: number;
  /** Its rows are still being written (it holds a table-concurrency place). */
  writing: boolean;
}

/** Small tables imported together by one activity of the task. */
export interface SmallTableGroup {
  id: number;
  keys: string[];
  totalBytes: number;
}

export interface TableFailure {
  /** The failure type: SourceFormatError, DataError, SchemaError, VerificationError, … */
  type: string;
  message: string;
  path?: string;
  offset?: number;
}

export interface FailedTable {
  key: string;
  status: CheckpointStatusCode;
  failure?: TableFailure;
}

export interface TakenOver {
  source: string;
  tables: number;
  chunks: number;
  rows: number;
}

export interface TaskCarry {
  taskId: string;
  plan: PlanSummary;
  takenOver?: TakenOver;
  running: RunningTable[];
  counts: TableCounts;
  /** Claims made so far: the next claim's name is unique across runs. */
  claims: number;
  runs: number;
}

/** What `taskSummary` answers: where the task stands, in a bounded answer. */
export interface TaskSummary {
  taskId: string;
  phase: TaskPhase;
  sourceDir: string;
  /** user@host:port, for display. */
  target: string;
  targetHost: string;
  targetPort: number;
  plan?: PlanSummary;
  counts: TableCounts;
  running: RunningTable[];
  smallGroups: SmallTableGroup[];
  /** The first failed tables (all of them are in `tempest status` and `--checkpoint-dump`), while the task waits for the operator. */
  failed: FailedTable[];
  takenOver?: TakenOver;
  /** The tables that ended last (at most `recentEnds`), numbered in the order they ended. */
  recent: Array<TableFinished & { seq: number }>;
  /** Tables ended so far in this run: `recent`'s highest number. */
  ended: number;
  /** Runs of the task workflow so far (it continues as new every so often). */
  runs: number;
  error?: string;
}

export const recentEnds = 50;

/** What `tableSummary` answers. */
export interface TableSummary {
  key: string;
  status: CheckpointStatusCode;
  chunks: number;
  engines: number;
  enginesDone: number;
  /** Rows and on-disk bytes of the finished engines. */
  rows: number;
  doneBytes: number;
  runningEngines: Array<{ engineId: number; workflowId: string }>;
}

/** What `engineSummary` answers. */
export interface EngineSummary {
  engineId: number;
  groups: number;
  groupsDone: number;
  chunksDone: number;
  rows: number;
  doneBytes: number;
}

export const taskSummaryQuery = defineQuery<TaskSummary>('taskSummary');
export const tableSummaryQuery = defineQuery<TableSummary>('tableSummary');
export const engineSummaryQuery = defineQuery<EngineSummary>('engineSummary');

/**
 * From a table's workflow to its task, with the table's key: every chunk is written. The table
 * then stops counting against table-concurrency while it is verified and its indexes are built.
 */
export const tableWrittenSignal = defineSignal<[string]>('tableWritten');

export interface TableFinished {
  key: string;
  failed: boolean;
  status: CheckpointStatusCode;
  rows: number;
  bytes: number;
}

/** From a table's workflow to its task: it ended (recorded in the table queue first). */
export const tableFinishedSignal = defineSignal<[TableFinished]>('tableFinished');

/** What `tempest ctl` asks of a running task (the `tidb-lightning-ctl` checkpoint commands). */
export interface CheckpointCtlRequest {
  action: 'ignore' | 'destroy' | 'remove';
  /** Table keys as Lightning writes them (`db`.`t`), or every table it applies to. */
  tables: string[] | 'all';
}

export interface CheckpointCtlResponse {
  /** Tables the request changed (the first page of them). */
  changed: string[];
  /** One line per table named (or found by `all`, the first page of them): what happened, or why nothing did. */
  messages: string[];
}

/**
 * From `tempest ctl` to its task, once it changed the task's table queue on the target (failed tables
 * queued again, tables removed): the task looks at the queue again. The queue itself decides what
 * may change (a running table cannot be removed), so the command needs no worker to answer it.
 */
export const tablesRequeuedSignal = defineSignal('tablesRequeued');

/** The task a table or engine workflow belongs to, and the few settings the workflows themselves read. */
export interface TaskContext {
  task: TaskRef;
  taskWorkflowId: string;
  regionConcurrency: number;
  /** A Temporal duration: a chunk that does not heartbeat for this long is retried elsewhere. */
  chunkHeartbeatTimeout: string;
  /** Children (tables, engines) or chunk groups a workflow run handles before it continues as new. */
  continueAsNewAfter: number;
  /** `[temporal] give-up-after`: how long a step may go on failing before it fails for good. */
  giveUpAfter?: string;
}

export interface ImportTableInput {
  generation: 2;
  context: TaskContext;
  table: { ordinal: number; key: string; totalBytes: number };
  destroyFirst: boolean;
  carried?: { chunks: number; engineGroups: number[]; nextEngine: number; rows: number; doneBytes: number };
}

export interface ImportEngineInput {
  context: TaskContext;
  table: { ordinal: number; key: string };
  engineId: number;
  groups: number;
  carried?: { nextGroup: number; chunks: number; rows: number; doneBytes: number };
}

export interface EngineResult {
  rows: number;
  chunks: number;
  doneBytes: number;
}

export interface ImportTaskResult {
  tables: number;
  rows: number;
  checksummed: number;
  removed: number;
  /** Tables whose verification left a note (the first of them). */
  notes: Array<{ key: string; note: string; failed: boolean }>;
  /** When the task started from an existing Lightning checkpoint: what it took over. */
  takenOver?: TakenOver;
}
