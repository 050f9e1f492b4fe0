import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from './failures';
import { checksumOfFirst } from './source/prefix-checksum';
import { openDataFile } from './source/open-data-file';
import { saveChunkProgressSql, type ChunkIdentity, type ChunkProgress } from './database/chunk-progress';
import {
  countTaskRecords,
  ensureRecordTables,
  insertRecordsSql,
  recordKindOf,
  recordsLockName,
  recordsTableName,
  toleranceOf,
  type RecordKind,
  type RowRecord,
} from './database/error-records';
import { lightningTaskId } from './checkpoint/checkpoint-model';
import { duplicatesIn, type InsertStatement } from './database/insert-statement';
import { quoteText } from './database/sql-text';
import { failedRowNumber, isDataError, isSchemaError, withoutValues } from './database/target-errors';
import type { ChunkInput } from './task-types';

/**
 * A batch the target rejected for a row the task tolerates (`[lightning] max-error`, `[conflict]
 * threshold`): its rows are written again, apart, to find the ones rejected; those go to the
 * records tables, and the rest, the records and the chunk's position commit in one transaction,
 * as every batch does. Only a failed batch comes here: the batches that pass pay nothing for it.
 */

export interface RejectedBatch {
  /** The table's INSERT, for any subset of the rows. */
  insert: InsertStatement;
  /** Each row's `(…)` text. */
  rows: readonly string[];
  /** Where each row ends in the file. */
  rowEnds: readonly number[];
  /** Each row's CRC (-1: unknown), when checksums are kept (empty otherwise). */
  rowCrcs: readonly number[];
  /** Rows of the chunk up to the batch's end whose CRC is unknown (an incomplete part from earlier attempts counts as one). */
  uncheckedRows: number;
  startOffset: number;
  /** The chunk's progress once every row of the batch is in. */
  progress: ChunkProgress;
}

export interface IsolationContext {
  pool: Pool;
  input: ChunkInput;
  identity: ChunkIdentity;
  /** Opens the batch's transaction, fenced on the chunk's position as every batch's is. */
  begin(connection: PoolConnection, startOffset: number): Promise<void>;
  heartbeat(): void;
  signal: AbortSignal;
}

/** What rows diverted to the records take from the chunk's checksum: the target does not hold them. */
export interface DivertedRows {
  /** The sum of their CRCs. */
  checksum: bigint;
  /** How many of them had an unknown CRC. */
  unchecked: number;
}

/** Where the batch stops: a row not tolerated, or one past its threshold. */
interface Stop {
  index: number;
  error: unknown;
  kind: RecordKind | undefined;
}

interface Placement {
  diverted: Array<RowRecord & { index: number }>;
  /** Rows the target took, and the rows its statements reported as changed (they differ by what REPLACE or IGNORE merged). */
  taken: number;
  /** Rows that met a key already in the table (see duplicatesIn). */
  duplicates: number;
  stop?: Stop;
}

/**
 * Writes a rejected batch again, its rows apart. Returns what the rows diverted to the records take
 * from the chunk's checksum; throws, after committing the rows before it, when a row is not
 * tolerated or is one too many.
 */
export async function writeBatchApart(context: IsolationContext, batch: RejectedBatch): Promise<DivertedRows> {
  const { settings } = context.input;
  const lock = quoteText(recordsLockName(settings));
  const connection = await context.pool.getConnection();
  let placement: Placement;
  let recorded: Record<RecordKind, number>;
  try {
    await ensureRecordTables(connection, settings);
    // The chunk's row first, then the task's lock: a lock holder never waits for a chunk's row.
    await context.begin(connection, batch.startOffset);
    await takeRecordsLock(connection, lock, context);
    recorded = { type: 0, conflict: 0 };
    for (const kind of ['type', 'conflict'] as const) {
      if (toleranceOf(settings, kind) > 0) recorded[kind] = await countTaskRecords(connection, settings, kind);
    }
    placement = await placeRows(connection, context, batch, recorded);
    const { diverted, stop } = placement;
    if (!stop || stop.index > 0) {
      const progress = await progressAfter(context.input, batch, placement);
      const records = insertRecordsSql(settings, context.input.table.key, context.input.chunk.path, diverted);
      const save = saveChunkProgressSql(settings.taskInfoSchema, context.identity, progress, placement.duplicates);
      await connection.query([...records, save, 'COMMIT', `SELECT RELEASE_LOCK(${lock})`].join(';\n'));
    } else {
      await connection.query(`ROLLBACK; SELECT RELEASE_LOCK(${lock})`);
    }
    connection.release();
  } catch (error) {
    // Rolls back what this transaction wrote and frees the lock with the session.
    connection.destroy();
    throw error;
  }
  if (placement.stop) throw stopFailure(context.input, batch, placement.stop, recorded);
  return crcsOf(batch, placement.diverted.map((record) => record.index));
}

function crcsOf(batch: RejectedBatch, indexes: readonly number[]): DivertedRows {
  const diverted: DivertedRows = { checksum: 0n, unchecked: 0 };
  for (const index of indexes) {
    const crc = batch.rowCrcs[index] ?? 0;
    if (crc < 0) diverted.unchecked++;
    else diverted.checksum += BigInt(crc);
  }
  return diverted;
}

/**
 * Inserts the batch's rows in their order, narrowing each failed statement to its rejected row
 * ("at row N" when the server says it, halves otherwise), so a few bad rows cost a few statements.
 * Order matters: a row whose key an earlier row of the batch took is the one that conflicts.
 */
async function placeRows(connection: PoolConnection, context: IsolationContext, batch: RejectedBatch, recorded: Record<RecordKind, number>): Promise<Placement> {
  const { settings } = context.input;
  const placement: Placement = { diverted: [], taken: 0, duplicates: 0 };
  const pending: Array<[number, number]> = [[0, batch.rows.length]];
  while (pending.length > 0) {
    const [from, to] = pending.pop()!;
    if (context.signal.aborted) throw context.signal.reason;
    context.heartbeat();
    try {
      const [result] = await connection.query<ResultSetHeader>(batch.insert.for(batch.rows.slice(from, to)));
      placement.taken += to - from;
      placement.duplicates += duplicatesIn(result, to - from, settings.onDuplicate);
      continue;
    } catch (error) {
      // Anything else (a lost connection, a deadlock) retries the batch whole.
      if (!isDataError(error) && !isSchemaError(error)) throw error;
      const kind = recordKindOf(error);
      // An error about the statement, not a row, stops at its first row.
      if (kind === undefined) return { ...placement, stop: { index: from, error, kind } };
      if (to - from > 1) {
        const row = failedRowNumber((error as Error).message);
        const bad = row !== undefined && row >= 1 && row <= to - from ? from + row - 1 : undefined;
        // Ranges are taken from the end of the list: push the later ones first.
        if (bad !== undefined) {
          if (bad + 1 < to) pending.push([bad + 1, to]);
          pending.push([bad, bad + 1]);
          if (bad > from) pending.push([from, bad]);
        } else {
          const middle = from + Math.floor((to - from) / 2);
          pending.push([middle, to], [from, middle]);
        }
        continue;
      }
      if (recorded[kind] >= toleranceOf(settings, kind)) return { ...placement, stop: { index: from, error, kind } };
      recorded[kind]++;
      placement.diverted.push({ index: from, kind, offset: rowStart(batch, from), error: (error as Error).message, rowText: batch.rows[from] });
    }
  }
  return placement;
}

/** The chunk's progress after the rows placed: the whole batch, or the rows before the stop. */
async function progressAfter(input: ChunkInput, batch: RejectedBatch, { diverted, stop }: Placement): Promise<ChunkProgress> {
  // Rows not kept: those diverted (all before the stop), and with a stop, those from it on.
  const notKept = diverted.map((record) => record.index);
  if (stop) for (let index = stop.index; index < batch.rows.length; index++) notKept.push(index);
  const dropped = crcsOf(batch, notKept);
  const kept = { checksum: (BigInt(batch.progress.checksum) - dropped.checksum).toString(), checksumComplete: batch.uncheckedRows - dropped.unchecked === 0 };
  if (!stop) return { ...batch.progress, ...kept };
  const pos = rowStart(batch, stop.index);
  return {
    ...batch.progress,
    ...kept,
    pos,
    rows: batch.progress.rows - (batch.rows.length - stop.index),
    finished: false,
    prefixCrc: await prefixCrcAt(input, pos, batch.progress.prefixCrc),
  };
}

/**
 * The CRC of the chunk's bytes before `pos`, stored with a position inside a batch. The reader
 * hashed past it already (it keeps CRCs at batch ends only): read that prefix again, once, on
 * this path of a failing table only.
 */
async function prefixCrcAt({ chunk, settings }: ChunkInput, pos: number, batchEndCrc: number): Promise<number> {
  // Parquet is read by row group, not as bytes: its chunks keep no prefix CRC.
  if (chunk.type === 'parquet') return batchEndCrc;
  const opened = openDataFile(chunk.path, chunk.compression, chunk.offset, settings.readBlockSize);
  try {
    const crc = await checksumOfFirst(opened.bytes, pos - chunk.offset);
    // Retryable: the retry's resume checks say what changed.
    if (crc === undefined) throw new Error(`${chunk.path} is shorter than byte offset ${pos}, which was just read: it changed while being imported`);
    return crc;
  } finally {
    opened.close();
  }
}

/** Waits for the task's records lock, heartbeating, as long as another chunk records its rows. */
async function takeRecordsLock(connection: PoolConnection, lock: string, context: IsolationContext): Promise<void> {
  for (;;) {
    const [rows] = await connection.query<RowDataPacket[]>(`SELECT GET_LOCK(${lock}, 5) AS got`);
    if (rows[0].got === null) throw new Error('the target could not take a named lock (GET_LOCK) for the error records');
    if (Number(rows[0].got) === 1) return;
    context.heartbeat();
    if (context.signal.aborted) throw context.signal.reason;
  }
}

function rowStart(batch: RejectedBatch, index: number): number {
  return index === 0 ? batch.startOffset : batch.rowEnds[index - 1];
}

function stopFailure({ settings, table, chunk }: ChunkInput, batch: RejectedBatch, stop: Stop, recorded: Record<RecordKind, number>): Error {
  const start = rowStart(batch, stop.index);
  const end = batch.rowEnds[stop.index];
  const place = chunk.type === 'parquet' ? `row ${start} of the file` : `byte offset ${start}–${end}`;
  // The row was written alone: "at row 1" of its statement would only mislead.
  const reason = withoutValues((stop.error as Error).message).replace(/ at row \d+$/, '');
  const details = { table: table.key, path: chunk.path, offset: start, errno: (stop.error as { errno?: number }).errno };
  const tolerance = stop.kind === undefined ? 0 : toleranceOf(settings, stop.kind);
  if (stop.kind === undefined || tolerance === 0) {
    return nonRetryable(
      isDataError(stop.error) ? 'DataError' : 'SchemaError',
      `${table.key}: ${chunk.path}: the target rejected the row at ${place}: ${reason}. Rows before it are imported; fix the file or the table, then resume.`,
      details,
    );
  }
  const count = recorded[stop.kind] + 1;
  const what = stop.kind === 'type' ? `rows could not be converted, more than [lightning] max-error = ${tolerance}` : `rows had a duplicate key, more than [conflict] threshold = ${tolerance}`;
  return nonRetryable(
    'DataError',
    `${table.key}: ${count} ${what}; see ${recordsTableName(settings.taskInfoSchema, stop.kind)} (task_id ${lightningTaskId(settings.taskId)}). ` +
      `The last, not recorded, is in ${chunk.path} at ${place}: ${reason}. Rows before it are imported; fix the file, then resume.`,
    details,
  );
}
