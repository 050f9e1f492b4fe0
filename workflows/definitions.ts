import { defineQuery } from '@temporalio/workflow';
import type { TaskSettings, VerifyResult } from '../activities/task-types';
import type { CheckpointStatusCode } from './checkpoint-status';

export interface ImportTaskInput {
  settings: Omit<TaskSettings, 'taskId'>;
}

export type TaskPhase = 'planning' | 'restoring schemas' | 'prechecking' | 'importing' | 'restoring views' | 'finished' | 'failed';

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
  error?: string;
}

export interface TaskState {
  taskId: string;
  phase: TaskPhase;
  sourceDir: string;
  target: string;
  tables: TableState[];
  error?: string;
}

export interface ChunkState {
  key: string;
  path: string;
  offset: number;
  endOffset: number;
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
