import type { Pool, RowDataPacket } from 'mysql2/promise';
import { chunkIdOf, progressTableName, type ChunkIdentity } from './chunk-progress';
import { quoteName, quoteText } from './sql-text';

/**
 * What a chunk taken over from Lightning may find already in the target past its position.
 * Lightning saves a chunk's position after the rows it covers are written, and not always before it
 * is killed: rows past the saved `pos` may be in. Take-over works out which case a chunk is in and
 * marks it here; the chunk's batches settle the mark in the transactions that write its rows.
 */
export interface OverlapMark {
  /**
   * The table has a primary or unique key: the rows from the position on are written with replace
   * semantics until a batch meets a row not yet in (a chunk's rows go in in file order, so none
   * after it is in either). Such rows are counted in `rowsAlreadyIn`, not as duplicates.
   */
  replacePastPos: boolean;
  /** The table has no key: this many rows after the position are known to be in, and are skipped. */
  skipRows: number;
  /** Rows found already in (replaced in place, or skipped): counted, so verification adds up. */
  rowsAlreadyIn: number;
}

const marksTable = 'tempest_overlap_v1';

function marksTableName(taskInfoSchema: string): string {
  return `${quoteName(taskInfoSchema)}.${quoteName(marksTable)}`;
}

export async function ensureOverlapMarksTable(pool: Pool, taskInfoSchema: string): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${marksTableName(taskInfoSchema)} (
       task_id VARCHAR(128) NOT NULL,
       chunk_id BINARY(20) NOT NULL COMMENT 'as in tempest_chunk_v1',
       replace_past_pos BOOL NOT NULL,
       skip_rows BIGINT NOT NULL,
       rows_already_in BIGINT NOT NULL,
       PRIMARY KEY (task_id, chunk_id)
     ) ENGINE = InnoDB`,
  );
}

export function saveOverlapMarkSql(taskInfoSchema: string, chunk: ChunkIdentity, mark: OverlapMark): string {
  return `INSERT INTO ${marksTableName(taskInfoSchema)} (task_id, chunk_id, replace_past_pos, skip_rows, rows_already_in)
          VALUES (${quoteText(chunk.taskId)}, ${chunkIdOf(chunk)}, ${mark.replacePastPos ? 1 : 0}, ${mark.skipRows}, ${mark.rowsAlreadyIn})
          ON DUPLICATE KEY UPDATE replace_past_pos = VALUES(replace_past_pos), skip_rows = VALUES(skip_rows), rows_already_in = VALUES(rows_already_in)`;
}

/** The chunk's mark; none for a chunk that was not taken over (or a task-info schema without marks). */
export async function readOverlapMark(pool: Pool, taskInfoSchema: string, chunk: ChunkIdentity): Promise<OverlapMark | undefined> {
  let rows: RowDataPacket[];
  try {
    [rows] = await pool.query<RowDataPacket[]>(
      `SELECT replace_past_pos, skip_rows, rows_already_in FROM ${marksTableName(taskInfoSchema)} WHERE task_id = ${quoteText(chunk.taskId)} AND chunk_id = ${chunkIdOf(chunk)}`,
    );
  } catch (error) {
    if ((error as { errno?: number }).errno === 1146) return undefined; // no take-over ever marked a chunk here
    throw error;
  }
  if (rows.length === 0) return undefined;
  return { replacePastPos: Number(rows[0].replace_past_pos) === 1, skipRows: Number(rows[0].skip_rows), rowsAlreadyIn: Number(rows[0].rows_already_in) };
}

/** Rows a task's taken-over chunks found already in the target, per table key. */
export async function readRowsAlreadyIn(pool: Pool, taskInfoSchema: string, taskId: string, tableKey: string): Promise<number> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT COALESCE(SUM(m.rows_already_in), 0) AS n FROM ${marksTableName(taskInfoSchema)} m
         JOIN ${progressTableName(taskInfoSchema)} c ON c.task_id = m.task_id AND c.chunk_id = m.chunk_id
        WHERE m.task_id = ${quoteText(taskId)} AND c.table_name = ${quoteText(tableKey)}`,
    );
    return Number(rows[0].n);
  } catch (error) {
    if ((error as { errno?: number }).errno === 1146) return 0;
    throw error;
  }
}
