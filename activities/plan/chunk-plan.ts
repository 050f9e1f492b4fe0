import type { Pool, RowDataPacket } from 'mysql2/promise';
import { chunkKey } from '../checkpoint/checkpoint-model';
import { textOf } from '../database/connection';
import { quoteText } from '../database/sql-text';
import type { Compression, DataFileType } from '../source/layout-types';
import type { ChunkPlan, TaskRef } from '../task-types';
import { insertRows } from './store-plan';
import { planTableName } from './plan-tables';

/**
 * A table's chunks, grouped as Lightning groups them into engines (`[mydumper] batch-size` of
 * source bytes each, engine ids from 0), and within an engine into groups that one activity
 * imports one after the other: a tiny file does not pay for an activity of its own.
 */
export interface PlannedChunk extends ChunkPlan {
  engineId: number;
  group: number;
  /** Bytes of the chunk's span on disk (for progress). */
  diskBytes: number;
}

export interface TableChunkSummary {
  chunks: number;
  /** Groups of each engine, by engine id. */
  engineGroups: number[];
}

/** A group closes at this many source bytes or chunks: small enough to spread over the workers, large enough to cost little. */
const groupBytes = 4 * 1024 * 1024;
const groupChunks = 64;
/** Engines per table at most: the table workflow visits each, and this keeps its history short. */
export const maxEngines = 1000;

export function assignEngines(chunks: readonly ChunkPlan[], batchSize: number): PlannedChunk[] {
  const rowsOfFile = new Map<string, number>();
  for (const chunk of chunks) if (chunk.type === 'parquet') rowsOfFile.set(chunk.path, Math.max(rowsOfFile.get(chunk.path) ?? 0, chunk.endOffset));
  const diskBytesOf = (chunk: ChunkPlan) => diskBytesOfChunk(chunk, rowsOfFile.get(chunk.path) ?? 0);
  const totalBytes = chunks.reduce((sum, chunk) => sum + diskBytesOf(chunk), 0);
  const engineBytes = Math.max(batchSize, Math.ceil(totalBytes / maxEngines));
  const planned: PlannedChunk[] = [];
  let engineId = 0;
  let inEngine = 0;
  let group = 0;
  let inGroup = { bytes: 0, chunks: 0 };
  for (const chunk of chunks) {
    const diskBytes = diskBytesOf(chunk);
    if (inEngine > 0 && inEngine + diskBytes > engineBytes) {
      engineId++;
      inEngine = 0;
      group = 0;
      inGroup = { bytes: 0, chunks: 0 };
    } else if (inGroup.chunks > 0 && (inGroup.bytes + diskBytes > groupBytes || inGroup.chunks >= groupChunks)) {
      group++;
      inGroup = { bytes: 0, chunks: 0 };
    }
    planned.push({ ...chunk, engineId, group, diskBytes });
    inEngine += diskBytes;
    inGroup = { bytes: inGroup.bytes + diskBytes, chunks: inGroup.chunks + 1 };
  }
  return planned;
}

export function summarize(chunks: readonly PlannedChunk[]): TableChunkSummary {
  const engineGroups: number[] = [];
  for (const chunk of chunks) engineGroups[chunk.engineId] = Math.max(engineGroups[chunk.engineId] ?? 0, chunk.group + 1);
  return { chunks: chunks.length, engineGroups };
}

/** Stores tables' chunks (replacing an earlier plan of them), in one transaction. */
export async function storeTableChunks(pool: Pool, task: TaskRef, tables: ReadonlyArray<{ ordinal: number; chunks: readonly PlannedChunk[] }>): Promise<void> {
  if (tables.length === 0) return;
  const taskId = quoteText(task.taskId);
  const connection = await pool.getConnection();
  try {
    // Read committed: no gap locks, so tables planned or claimed at once do not deadlock.
    await connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await connection.query('START TRANSACTION');
    await connection.query(
      `DELETE FROM ${planTableName(task.taskInfoSchema, 'chunk')} WHERE task_id = ${taskId} AND table_ordinal IN (${tables.map((table) => table.ordinal).join(', ')})`,
    );
    await insertRows(
      connection,
      planTableName(task.taskInfoSchema, 'chunk'),
      'task_id, table_ordinal, chunk_ordinal, engine_id, group_ordinal, path, type, compression, `offset`, end_offset, file_size, mtime_ms, disk_bytes, columns',
      tables.flatMap(({ ordinal: tableOrdinal, chunks }) =>
        chunks.map((chunk, ordinal) =>
        [
          taskId,
          tableOrdinal,
          ordinal,
          chunk.engineId,
          chunk.group,
          quoteText(chunk.path),
          quoteText(chunk.type),
          quoteText(chunk.compression),
          chunk.offset,
          chunk.endOffset,
          chunk.fileSize,
          chunk.mtimeMs,
          chunk.diskBytes,
          chunk.columns ? quoteText(JSON.stringify(chunk.columns)) : 'NULL',
        ].join(', '),
        ),
      ),
    );
    await connection.query('COMMIT');
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

/** The chunks of one group, or of a whole engine, or of the whole table, in plan order. */
export async function readChunks(pool: Pool, task: TaskRef, tableOrdinal: number, where: { engineId?: number; group?: number } = {}): Promise<PlannedChunk[]> {
  const conditions = [`task_id = ${quoteText(task.taskId)}`, `table_ordinal = ${tableOrdinal}`];
  if (where.engineId !== undefined) conditions.push(`engine_id = ${where.engineId}`);
  if (where.group !== undefined) conditions.push(`group_ordinal = ${where.group}`);
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT engine_id, group_ordinal, path, type, compression, \`offset\`, end_offset, file_size, mtime_ms, disk_bytes, columns
       FROM ${planTableName(task.taskInfoSchema, 'chunk')} WHERE ${conditions.join(' AND ')} ORDER BY chunk_ordinal`,
  );
  return rows.map((row) => {
    const path = textOf(row.path);
    const offset = Number(row.offset);
    return {
      key: chunkKey({ path, offset }),
      path,
      type: textOf(row.type) as DataFileType,
      compression: textOf(row.compression) as Compression,
      offset,
      endOffset: Number(row.end_offset),
      fileSize: Number(row.file_size),
      mtimeMs: Number(row.mtime_ms),
      columns: row.columns === null ? undefined : (JSON.parse(textOf(row.columns)) as string[]),
      engineId: Number(row.engine_id),
      group: Number(row.group_ordinal),
      diskBytes: Number(row.disk_bytes),
    };
  });
}

/**
 * A chunk's share of its file on disk, for progress: its byte range; the whole file when compressed
 * (read from its start); for Parquet, whose offsets count rows, its share of the file's rows.
 */
function diskBytesOfChunk(chunk: ChunkPlan, fileRows: number): number {
  if (chunk.type === 'parquet') {
    return fileRows > 0 ? Math.round((chunk.fileSize * (chunk.endOffset - chunk.offset)) / fileRows) : chunk.fileSize;
  }
  return chunk.compression === 'none' ? chunk.endOffset - chunk.offset : chunk.fileSize;
}
