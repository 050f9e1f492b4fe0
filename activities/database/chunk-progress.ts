import crypto from 'node:crypto';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { textOf } from './connection';
import { quoteName, quoteText } from './sql-text';

/**
 * Where each chunk stands, kept on the target in the task-info schema. A batch of rows and the
 * chunk's new position commit in one transaction, so after any crash the position says exactly
 * which rows are in the table: a retry resumes there, writing no row twice, key or no key.
 */

const progressTable = 'tempest_chunk_v1';

export interface ChunkProgress {
  /** Uncompressed offset just past the last committed row. */
  pos: number;
  rows: number;
  /** Sum of the rows' CRC32s (decimal text: it outgrows 2^53). */
  checksum: string;
  checksumComplete: boolean;
  finished: boolean;
  /** The source file when the rows were read: a later change to it is noticed. */
  fileSize: number;
  fileMtimeMs: number;
  /** CRC32 of the chunk's bytes before `pos`: tells whether the part already imported changed. */
  prefixCrc: number;
  /** The target table's creation time when the rows were written: a recreated table is noticed. */
  tableCreated: string;
}

export interface ChunkIdentity {
  readonly taskId: string;
  readonly tableKey: string;
  readonly path: string;
  readonly offset: number;
}

export function progressTableName(taskInfoSchema: string): string {
  return `${quoteName(taskInfoSchema)}.${quoteName(progressTable)}`;
}

export async function ensureProgressTable(pool: Pool, taskInfoSchema: string): Promise<void> {
  await pool.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(taskInfoSchema)}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${progressTableName(taskInfoSchema)} (
       task_id VARCHAR(128) NOT NULL,
       chunk_id BINARY(20) NOT NULL COMMENT 'SHA-1 of table key, path and offset',
       table_name VARCHAR(261) NOT NULL,
       path VARCHAR(2048) NOT NULL,
       \`offset\` BIGINT NOT NULL,
       pos BIGINT NOT NULL,
       row_count BIGINT NOT NULL,
       checksum DECIMAL(40, 0) NOT NULL,
       checksum_complete BOOL NOT NULL,
       duplicates BIGINT NOT NULL,
       finished BOOL NOT NULL,
       file_size BIGINT NOT NULL,
       file_mtime BIGINT NOT NULL,
       prefix_crc BIGINT UNSIGNED NOT NULL,
       table_created VARCHAR(32) NOT NULL,
       update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
       PRIMARY KEY (task_id, chunk_id),
       KEY table_progress (task_id, table_name)
     ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`,
  );
}

/** Ids worked out once per identity: every batch's statements name the chunk twice. */
const chunkIds = new WeakMap<ChunkIdentity, string>();

export function chunkIdOf(chunk: ChunkIdentity): string {
  let id = chunkIds.get(chunk);
  if (id === undefined) {
    id = `0x${crypto.createHash('sha1').update(JSON.stringify([chunk.tableKey, chunk.path, chunk.offset])).digest('hex')}`;
    chunkIds.set(chunk, id);
  }
  return id;
}

/**
 * Opens the batch's transaction by locking the chunk's progress row, and says whether it still
 * stands at `expectedPos`. A second attempt of the same chunk (a worker Temporal gave up on, still
 * running) waits here and then finds the position moved: it must not write its batch.
 */
export async function lockChunkProgress(connection: PoolConnection, taskInfoSchema: string, chunk: ChunkIdentity, expectedPos: number): Promise<boolean> {
  const [results] = await connection.query<RowDataPacket[][]>(
    `START TRANSACTION; SELECT pos FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(chunk.taskId)} AND chunk_id = ${chunkIdOf(chunk)} FOR UPDATE`,
  );
  const rows = results[1];
  return rows.length === 1 && Number(rows[0].pos) === expectedPos;
}

export async function readChunkProgress(pool: Pool, taskInfoSchema: string, chunk: ChunkIdentity): Promise<ChunkProgress | undefined> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT pos, row_count, CAST(checksum AS CHAR) AS checksum, checksum_complete, finished, file_size, file_mtime, prefix_crc, table_created
       FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(chunk.taskId)} AND chunk_id = ${chunkIdOf(chunk)}`,
  );
  if (rows.length === 0) return undefined;
  const row = rows[0];
  return {
    pos: Number(row.pos),
    rows: Number(row.row_count),
    checksum: String(row.checksum),
    checksumComplete: Number(row.checksum_complete) === 1,
    finished: Number(row.finished) === 1,
    fileSize: Number(row.file_size),
    fileMtimeMs: Number(row.file_mtime),
    prefixCrc: Number(row.prefix_crc),
    tableCreated: textOf(row.table_created),
  };
}

const progressColumns =
  'task_id, chunk_id, table_name, path, `offset`, pos, row_count, checksum, checksum_complete, duplicates, finished, file_size, file_mtime, prefix_crc, table_created';

function progressValues(chunk: ChunkIdentity, progress: ChunkProgress, duplicates: string): string {
  return [
    quoteText(chunk.taskId),
    chunkIdOf(chunk),
    quoteText(chunk.tableKey),
    quoteText(chunk.path),
    chunk.offset,
    progress.pos,
    progress.rows,
    progress.checksum,
    progress.checksumComplete ? 1 : 0,
    duplicates,
    progress.finished ? 1 : 0,
    progress.fileSize,
    progress.fileMtimeMs,
    progress.prefixCrc,
    quoteText(progress.tableCreated),
  ].join(', ');
}

/** Records a chunk's starting point, unless an attempt already did (whose progress then stands). */
export async function startChunkProgress(pool: Pool, taskInfoSchema: string, chunk: ChunkIdentity, progress: ChunkProgress): Promise<void> {
  await pool.query(`INSERT IGNORE INTO ${progressTableName(taskInfoSchema)} (${progressColumns}) VALUES (${progressValues(chunk, progress, '0')})`);
}

/**
 * The statement that records `progress`, for the same transaction as the batch it follows;
 * `duplicates`: source rows of that batch the target merged or dropped (see duplicatesIn).
 */
export function saveChunkProgressSql(taskInfoSchema: string, chunk: ChunkIdentity, progress: ChunkProgress, duplicates: number): string {
  return `INSERT INTO ${progressTableName(taskInfoSchema)} (${progressColumns})
          VALUES (${progressValues(chunk, progress, String(duplicates))})
          ON DUPLICATE KEY UPDATE pos = VALUES(pos), row_count = VALUES(row_count), checksum = VALUES(checksum),
            checksum_complete = VALUES(checksum_complete), duplicates = duplicates + VALUES(duplicates), finished = VALUES(finished),
            file_size = VALUES(file_size), file_mtime = VALUES(file_mtime), prefix_crc = VALUES(prefix_crc), table_created = VALUES(table_created)`;
}

export interface TableProgressTotals {
  rows: number;
  checksum: string;
  checksumComplete: boolean;
  duplicates: number;
  chunks: number;
}

export async function readTableProgressTotals(pool: Pool | PoolConnection, taskInfoSchema: string, taskId: string, tableKey: string): Promise<TableProgressTotals> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS chunks, COALESCE(SUM(row_count), 0) AS row_count, CAST(COALESCE(SUM(checksum), 0) AS CHAR) AS checksum,
            COALESCE(MIN(checksum_complete), 1) AS checksum_complete, COALESCE(SUM(duplicates), 0) AS duplicates
       FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(taskId)} AND table_name = ${quoteText(tableKey)}`,
  );
  const row = rows[0];
  return {
    rows: Number(row.row_count),
    checksum: String(row.checksum),
    checksumComplete: Number(row.checksum_complete) === 1,
    duplicates: Number(row.duplicates),
    chunks: Number(row.chunks),
  };
}

export async function deleteTableProgress(pool: Pool, taskInfoSchema: string, taskId: string, tableKey: string): Promise<void> {
  await pool.query(`DELETE FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(taskId)} AND table_name = ${quoteText(tableKey)}`);
}

export async function deleteTaskProgress(pool: Pool, taskInfoSchema: string, taskId: string): Promise<void> {
  await pool.query(`DELETE FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(taskId)}`);
}

export async function tableHasProgress(pool: Pool, taskInfoSchema: string, taskId: string, tableKey: string): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT 1 FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(taskId)} AND table_name = ${quoteText(tableKey)} LIMIT 1`,
  );
  return rows.length > 0;
}

/** Every chunk's committed position for a task, keyed by its table key, a NUL, and Lightning's chunk key `{path}:{offset}`. */
export async function readTaskPositions(pool: Pool, taskInfoSchema: string, taskId: string): Promise<Map<string, { pos: number; rows: number; finished: boolean }>> {
  const positions = new Map<string, { pos: number; rows: number; finished: boolean }>();
  let rows: RowDataPacket[];
  try {
    [rows] = await pool.query<RowDataPacket[]>(
      `SELECT table_name, path, \`offset\`, pos, row_count, finished FROM ${progressTableName(taskInfoSchema)} WHERE task_id = ${quoteText(taskId)}`,
    );
  } catch (error) {
    if ((error as { errno?: number }).errno === 1146) return positions; // nothing written yet
    throw error;
  }
  for (const row of rows) {
    positions.set(`${textOf(row.table_name)}\0${textOf(row.path)}:${Number(row.offset)}`, { pos: Number(row.pos), rows: Number(row.row_count), finished: Number(row.finished) === 1 });
  }
  return positions;
}
