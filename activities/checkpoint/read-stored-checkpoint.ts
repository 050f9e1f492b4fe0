import type { Pool, RowDataPacket } from 'mysql2/promise';
import { CheckpointStatus, isFailedStatus } from '../../workflows/checkpoint-status';
import { readTaskPositions } from '../database/chunk-progress';
import { textOf } from '../database/connection';
import { quoteText } from '../database/sql-text';
import type { Compression, DataFileType } from '../source/layout-types';
import { loadTaskSettings } from '../plan/task-plan';
import { planTableName } from '../plan/plan-tables';
import type { TaskRef } from '../task-types';
import { unknownEnd } from './build-model';
import { lightningTaskId, withIndexEngine, type CheckpointModel, type ChunkCheckpoint, type EngineCheckpoint, type TableCheckpoint } from './checkpoint-model';
import { tempestVersion } from './read-task-checkpoint';

/**
 * A task's checkpoint in Lightning's terms, from what the task keeps on the target: the table
 * queue's statuses, the chunk plan, and each chunk's committed position (exact: it commits with the
 * rows). Nothing is asked of Temporal, so it costs the same however many tables the task has.
 */
export async function readStoredCheckpoint(pool: Pool, task: TaskRef): Promise<CheckpointModel> {
  const settings = await loadTaskSettings(pool, task);
  const taskId = quoteText(task.taskId);
  const [tableRows] = await pool.query<RowDataPacket[]>(
    `SELECT ordinal, table_name, status, state FROM ${planTableName(task.taskInfoSchema, 'table')}
      WHERE task_id = ${taskId} AND state <> 'removed' ORDER BY ordinal`,
  );
  const tables = new Map<number, TableCheckpoint>();
  for (const row of tableRows) tables.set(Number(row.ordinal), { key: textOf(row.table_name), status: Number(row.status), engines: [] });

  // Three scans by task id, joined here: joined by the server, a table of many files compares
  // every chunk with every position of that table.
  const [chunkRows] = await pool.query<RowDataPacket[]>(
    `SELECT table_ordinal, engine_id, path, \`offset\`, end_offset, type, compression, file_size, mtime_ms
       FROM ${planTableName(task.taskInfoSchema, 'chunk')} WHERE task_id = ${taskId} ORDER BY table_ordinal, chunk_ordinal`,
  );
  const positions = await readTaskPositions(pool, task.taskInfoSchema, task.taskId);
  for (const row of chunkRows) {
    const table = tables.get(Number(row.table_ordinal));
    if (!table) continue;
    const engineId = Number(row.engine_id);
    let engine: EngineCheckpoint | undefined = table.engines[table.engines.length - 1];
    if (!engine || engine.id !== engineId) {
      engine = { id: engineId, status: engineStatusOf(table), chunks: [] };
      table.engines.push(engine);
    }
    const offset = Number(row.offset);
    const path = textOf(row.path);
    const position = positions.get(`${table.key}\0${path}:${offset}`);
    const finished = position?.finished ?? false;
    const endOffset = Number(row.end_offset);
    // A finished chunk is recorded as Lightning records one, finished at its end (pos = end_offset):
    // the bytes after its last row (a statement's `;`, a newline) hold no row.
    const pos = finished && endOffset >= 0 ? endOffset : (position?.pos ?? offset);
    const chunk: ChunkCheckpoint = {
      path,
      offset,
      endOffset: endOffset >= 0 ? endOffset : finished ? pos : unknownEnd(Number(row.file_size), pos),
      pos,
      rows: position?.rows ?? 0,
      type: textOf(row.type) as DataFileType,
      compression: textOf(row.compression) as Compression,
      fileSize: Number(row.file_size),
      timestamp: Math.trunc(Number(row.mtime_ms) / 1000),
      sortKey: '',
    };
    engine.chunks.push(chunk);
  }
  for (const table of tables.values()) table.engines = withIndexEngine(table.engines, engineStatusOf(table));
  return {
    task: {
      taskId: lightningTaskId(task.taskId),
      sourceDir: settings.sourceDir,
      backend: 'tidb',
      tidbHost: settings.target.host,
      tidbPort: settings.target.port,
      lightningVersion: tempestVersion,
    },
    tables: [...tables.values()],
  };
}

/** An engine's status: its table's failure, or how far its table went, up to closed (a logical import has no import step). */
function engineStatusOf(table: TableCheckpoint): number {
  return isFailedStatus(table.status) ? table.status : Math.min(table.status, CheckpointStatus.closed);
}
