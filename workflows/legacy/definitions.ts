/* The queries, signals and state of Tempest 0.1's workflows (see ./import-task.ts). */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Compression, DataFileType } from '../../activities/source/layout-types';
import type { TaskSettings, VerifyResult } from '../../activities/task-types';
import type { CheckpointStatusCode } from '../checkpoint-status';
import { tableWrittenSignal, type CheckpointCtlRequest, type CheckpointCtlResponse, type TableFailure, type TaskPhase } from '../definitions';

export type { CheckpointCtlRequest, CheckpointCtlResponse, TableFailure, TaskPhase };

export interface ImportTaskInput {
  settings: Omit<TaskSettings, 'taskId'>;
}

export interface TableState {
  key: string;
  schema: string;
  name: string;
  status: CheckpointStatusCode;
  totalBytes: number;
  /** Bytes of the source files of finished chunks. */
  doneBytes: number;
  rows: number;
  childWorkflowId: string;
  verify?: VerifyResult;
  /** Why the table failed, while it waits for the operator. */
  failure?: TableFailure;
  /** Its table workflow is running. */
  running?: boolean;
  /** `--checkpoint-remove`d: no longer part of this task. */
  removed?: boolean;
}


export interface TaskState {
  taskId: string;
  phase: TaskPhase;
  sourceDir: string;
  /** user@host:port, for display. */
  target: string;
  targetHost: string;
  targetPort: number;
  tables: TableState[];
  /** When the task started from an existing Lightning checkpoint: what it took over. */
  takenOver?: { source: string; tables: number; chunks: number; rows: number };
  error?: string;
}

export interface ChunkState {
  key: string;
  path: string;
  type: DataFileType;
  compression: Compression;
  offset: number;
  endOffset: number;
  /** How far it is imported, as of its last completion (running chunks report theirs in heartbeats). */
  pos: number;
  fileSize: number;
  mtimeMs: number;
  columns?: string[];
  /** Bytes of the chunk's span on disk (the whole file, when compressed). */
  diskBytes: number;
  status: 'pending' | 'running' | 'finished' | 'failed';
  rows: number;
}

export interface TableProgress {
  key: string;
  status: CheckpointStatusCode;
  chunks: ChunkState[];
}

export const taskStateQuery = defineQuery<TaskState>('taskState');
export const tableProgressQuery = defineQuery<TableProgress>('tableProgress');
export { tableWrittenSignal };

export const checkpointCtlUpdate = defineUpdate<CheckpointCtlResponse, [CheckpointCtlRequest]>('checkpointCtl');
