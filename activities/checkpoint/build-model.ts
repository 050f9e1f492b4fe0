import { CheckpointStatus, isFailedStatus } from '../../workflows/checkpoint-status';
import type { TableProgress, TaskState } from '../../workflows/legacy/definitions';
import { chunkKey, withIndexEngine, type CheckpointModel, type TableCheckpoint, type TaskCheckpoint } from './checkpoint-model';

export interface LivePosition {
  pos: number;
  rows: number;
}

/**
 * The checkpoint of a task from its workflows' state: statuses from the task and table workflows,
 * positions of running chunks from `live` (the target's progress table, or heartbeats).
 */
export function buildCheckpointModel(
  task: TaskCheckpoint,
  state: TaskState,
  tableProgress: ReadonlyMap<string, TableProgress>,
  live: ReadonlyMap<string, LivePosition>,
): CheckpointModel {
  const tables: TableCheckpoint[] = state.tables
    .filter((table) => !table.removed)
    .map((table) => {
      const progress = tableProgress.get(table.key);
      // The task's status of a table only moves when its workflow ends; while it runs, its own is newer.
      const status = table.running && progress ? progress.status : table.status;
      const chunks = (progress?.chunks ?? []).map((chunk) => {
        const current = chunk.status === 'finished' ? { pos: chunk.pos, rows: chunk.rows } : (live.get(chunkKey(chunk)) ?? { pos: chunk.offset, rows: 0 });
        return {
          path: chunk.path,
          offset: chunk.offset,
          endOffset: chunk.endOffset >= 0 ? chunk.endOffset : chunk.status === 'finished' ? chunk.pos : unknownEnd(chunk.fileSize, current.pos),
          pos: current.pos,
          rows: current.rows,
          type: chunk.type,
          compression: chunk.compression,
          fileSize: chunk.fileSize,
          timestamp: Math.trunc(chunk.mtimeMs / 1000),
          sortKey: '',
        };
      });
      const engineStatus = isFailedStatus(status) ? status : Math.min(status, CheckpointStatus.closed);
      return { key: table.key, status, engines: withIndexEngine(chunks.length > 0 ? [{ id: 0, status: engineStatus, chunks }] : [], engineStatus) };
    });
  return { task, tables };
}

/**
 * A compressed chunk's end in the uncompressed stream is known once it is read to the end. Until
 * then its compressed size stands in, as Lightning writes it, but never at or before the position:
 * `pos >= end_offset` means "finished" to whoever reads the checkpoint.
 */
export function unknownEnd(fileSize: number, pos: number): number {
  return Math.max(fileSize, pos + 1);
}
