import crypto from 'node:crypto';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { lightningTaskId } from '../checkpoint/checkpoint-model';
import type { TaskSettings } from '../task-types';
import { isDataError } from './target-errors';
import { quoteName, quoteText } from './sql-text';

/**
 * Rows the target rejected and the task tolerates (LIGHTNING-COMPAT.md §7), kept in the task-info
 * schema in Lightning's own tables, so an operator's queries (and a schema Lightning created
 * before) carry over. We only ever insert Lightning's columns: a table Lightning created, which
 * lacks our `id` and index, takes them as well.
 *
 * The records commit in the same transaction as the rows around them and the chunk's position, so
 * a retried chunk, which resumes past that position, never records a row twice; and their count
 * is the task's count of tolerated rows, wherever its workers crash.
 */

/** What made the target reject a row: a value it could not convert, or a key already taken. */
export type RecordKind = 'type' | 'conflict';

const tables: Record<RecordKind, string> = { type: 'type_error_v1', conflict: 'conflict_records' };

const layouts: Record<RecordKind, string> = {
  type: 'row_data TEXT NOT NULL',
  // Lightning's logical import writes 0 as row id too: the rows of a dump have none.
  conflict: "row_id BIGINT NOT NULL COMMENT 'the row id of the conflicted row', row_data TEXT NOT NULL COMMENT 'the row data of the conflicted row'",
};

/** `schema`.`type_error_v1`, as messages name it for the operator. */
export function recordsTableName(taskInfoSchema: string, kind: RecordKind): string {
  return `\`${taskInfoSchema.replace(/`/g, '``')}\`.\`${tables[kind]}\``;
}

function recordsTable(taskInfoSchema: string, kind: RecordKind): string {
  return `${quoteName(taskInfoSchema)}.${quoteName(tables[kind])}`;
}

/** How many rows of a kind the task tolerates; 0: the first one fails its table. */
export function toleranceOf(settings: TaskSettings, kind: RecordKind): number {
  if (kind === 'type') return settings.maxError;
  return settings.onDuplicate === 'error' ? (settings.conflictThreshold ?? 0) : 0;
}

/** The kind of a row-level rejection, or undefined for an error that is not about one row's values. */
export function recordKindOf(error: unknown): RecordKind | undefined {
  const errno = (error as { errno?: number }).errno;
  if (errno === 1062) return 'conflict';
  // Unknown column and column count are about the statement: every row would fail alike.
  if (errno === 1054 || errno === 1136) return undefined;
  return isDataError(error) ? 'type' : undefined;
}

/** A failed batch is worth taking apart when its error is about a row of a kind the task tolerates. */
export function isToleratedRowError(settings: TaskSettings, error: unknown): boolean {
  const kind = recordKindOf(error);
  return kind !== undefined && toleranceOf(settings, kind) > 0;
}

/** Creates the records tables the task may write to. DDL commits: call it outside a transaction. */
export async function ensureRecordTables(connection: PoolConnection, settings: TaskSettings): Promise<void> {
  for (const kind of ['type', 'conflict'] as const) {
    if (toleranceOf(settings, kind) === 0) continue;
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${recordsTable(settings.taskInfoSchema, kind)} (
         id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         task_id BIGINT NOT NULL,
         create_time DATETIME(6) NOT NULL DEFAULT NOW(6),
         table_name VARCHAR(261) NOT NULL,
         path VARCHAR(2048) NOT NULL,
         \`offset\` BIGINT NOT NULL,
         error TEXT NOT NULL,
         ${layouts[kind]},
         KEY task_table (task_id, table_name)
       ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`,
    );
  }
}

/** How many rows of a kind the task has recorded, read in the caller's transaction. */
export async function countTaskRecords(connection: PoolConnection, settings: TaskSettings, kind: RecordKind): Promise<number> {
  // A locking read sees the latest commits whatever the engine's snapshot rules (TiDB reads plain
  // SELECTs as of the transaction's start); recordsLock keeps other writers of records out meanwhile.
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ${recordsTable(settings.taskInfoSchema, kind)} WHERE task_id = ${lightningTaskId(settings.taskId)} FOR UPDATE`,
  );
  return Number(rows[0].n);
}

/** Rows of one table diverted to the records, for verification; none when the tables do not exist. */
export async function countTableRecords(pool: Pool, settings: TaskSettings, tableKey: string): Promise<Record<RecordKind, number>> {
  const counts: Record<RecordKind, number> = { type: 0, conflict: 0 };
  for (const kind of ['type', 'conflict'] as const) {
    try {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM ${recordsTable(settings.taskInfoSchema, kind)} WHERE task_id = ${lightningTaskId(settings.taskId)} AND table_name = ${quoteText(tableKey)}`,
      );
      counts[kind] = Number(rows[0].n);
    } catch (error) {
      if ((error as { errno?: number }).errno !== 1146) throw error;
    }
  }
  return counts;
}

/**
 * `--checkpoint-error-destroy`: the table is imported again from scratch and records its rows anew;
 * the old records would count them twice.
 */
export async function deleteTableRecords(pool: Pool, settings: TaskSettings, tableKey: string): Promise<void> {
  for (const kind of ['type', 'conflict'] as const) {
    try {
      await pool.query(`DELETE FROM ${recordsTable(settings.taskInfoSchema, kind)} WHERE task_id = ${lightningTaskId(settings.taskId)} AND table_name = ${quoteText(tableKey)}`);
    } catch (error) {
      if ((error as { errno?: number }).errno !== 1146) throw error;
    }
  }
}

/**
 * The name of the lock that makes the check "does this record stay within the threshold" and the
 * insert of the record one step across every chunk of the task. A server-level named lock rather
 * than row locks: concurrent range locks on an empty records table would deadlock each other.
 */
export function recordsLockName(settings: TaskSettings): string {
  const digest = crypto.createHash('sha1').update(`${settings.taskInfoSchema}\0${lightningTaskId(settings.taskId)}`).digest('hex');
  return `tempest-records-${digest.slice(0, 40)}`;
}

/** One rejected row, located in its file. */
export interface RowRecord {
  kind: RecordKind;
  offset: number;
  /** The server's message, with the values it echoes: it goes only to the records table. */
  error: string;
  /** The row as the SQL text of its values (a byte string), for the operator to read. */
  rowText: string;
}

/** The INSERT statements of the records, for the transaction of the rows around them. */
export function insertRecordsSql(settings: TaskSettings, tableKey: string, path: string, records: readonly RowRecord[]): string[] {
  const statements: string[] = [];
  for (const kind of ['type', 'conflict'] as const) {
    const values = records
      .filter((record) => record.kind === kind)
      .map((record) => {
        // The target rejected this row alone: "at row 1" of its statement would only mislead.
        const error = record.error.replace(/ at row \d+$/, '');
        const common = [lightningTaskId(settings.taskId), quoteText(tableKey), quoteText(path), record.offset, quoteText(fitText(error))];
        // The column is text: bytes that are not UTF-8 (binary values) show as U+FFFD; the file has them.
        const rowData = quoteText(fitText(Buffer.from(record.rowText, 'latin1').toString('utf8')));
        return `(${[...common, ...(kind === 'conflict' ? ['0'] : []), rowData].join(', ')})`;
      });
    if (values.length === 0) continue;
    const columns = kind === 'conflict' ? 'task_id, table_name, path, `offset`, error, row_id, row_data' : 'task_id, table_name, path, `offset`, error, row_data';
    statements.push(`INSERT INTO ${recordsTable(settings.taskInfoSchema, kind)} (${columns}) VALUES ${values.join(', ')}`);
  }
  return statements;
}

/** A TEXT column holds 65,535 bytes: longer text is cut (at a character) and says so. */
const textLimit = 65_535;

function fitText(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= textLimit) return text;
  const marker = ' … (cut: the whole row is in the file at this offset)';
  const room = textLimit - Buffer.byteLength(marker, 'utf8');
  // Decoding a cut in the middle of a character leaves U+FFFD; drop it.
  return Buffer.from(text, 'utf8').subarray(0, room).toString('utf8').replace(/\uFFFD$/, '') + marker;
}
