import type { Pool, RowDataPacket } from 'mysql2/promise';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import type { CheckpointCtlRequest, CheckpointCtlResponse, TableFailure } from '../../workflows/definitions';
import { deleteTableProgress } from '../database/chunk-progress';
import { textOf } from '../database/connection';
import { addBackBeforeRemove } from '../database/deferred-indexes';
import { quoteText } from '../database/sql-text';
import type { TaskRef, VerifyResult } from '../task-types';
import { json } from './store-plan';
import { planTableName } from './plan-tables';

/**
 * The tables of a task as a queue on the target: a task workflow claims the next few, a table's
 * outcome is recorded when it ends, and `tempest ctl` puts failed ones back. The workflow keeps only
 * counters and the tables in flight, however many tables the task has.
 */

export type TableQueueState = 'queued' | 'running' | 'finished' | 'failed' | 'removed';

export interface ClaimedTable {
  ordinal: number;
  key: string;
  totalBytes: number;
  fileCount: number;
  destroyFirst: boolean;
}

export interface TableCounts {
  queued: number;
  running: number;
  finished: number;
  failed: number;
  removed: number;
  /** Source bytes and rows of the finished tables. */
  finishedBytes: number;
  finishedRows: number;
}

/** A table this small (and of few files) is imported with others in one activity, not by a workflow of its own. */
const smallTableBytes = 8 * 1024 * 1024;
const smallTableFiles = 64;
/** A group of small tables closes at this many tables or bytes. */
const groupTables = 32;
const groupBytes = 32 * 1024 * 1024;

export interface TableSlots {
  /** Tables for a workflow each. */
  large: ClaimedTable[];
  /** Groups of small tables, for one activity each. */
  small: ClaimedTable[][];
  counts: TableCounts;
}

/**
 * Claims the next queued tables (those to start first, first) to fill up to `slots` places: a
 * large table takes a place, a group of small ones another. Claimed under the workflow step's
 * name `claim`: a retried step (its answer lost) gets what it claimed before, not more.
 */
export async function claimTables(pool: Pool, task: TaskRef, claim: string, slots: number): Promise<TableSlots> {
  const table = planTableName(task.taskInfoSchema, 'table');
  const taskId = quoteText(task.taskId);
  const columns = 'ordinal, table_name, total_bytes, file_count, destroy_first';
  const connection = await pool.getConnection();
  try {
    // Read committed: no gap locks, so tables planned or claimed at once do not deadlock.
    await connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await connection.query('START TRANSACTION');
    const [again] = await connection.query<RowDataPacket[]>(`SELECT ${columns} FROM ${table} WHERE task_id = ${taskId} AND claim = ${quoteText(claim)} ORDER BY first DESC, ordinal`);
    let claimed = again.map(claimedOf);
    if (claimed.length === 0 && slots > 0) {
      const [rows] = await connection.query<RowDataPacket[]>(
        `SELECT ${columns} FROM ${table} WHERE task_id = ${taskId} AND state = 'queued' ORDER BY first DESC, ordinal LIMIT ${slots * groupTables} FOR UPDATE`,
      );
      claimed = packSlots(rows.map(claimedOf), slots).flat();
      if (claimed.length > 0) {
        await connection.query(
          `UPDATE ${table} SET state = 'running', claim = ${quoteText(claim)} WHERE task_id = ${taskId} AND ordinal IN (${claimed.map((row) => row.ordinal).join(', ')})`,
        );
      }
    }
    await connection.query('COMMIT');
    const packed = packSlots(claimed, Number.MAX_SAFE_INTEGER);
    return { large: packed.filter((slot) => !isSmall(slot[0])).flat(), small: packed.filter((slot) => isSmall(slot[0])), counts: await countTables(pool, task) };
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

function claimedOf(row: RowDataPacket): ClaimedTable {
  return {
    ordinal: Number(row.ordinal),
    key: textOf(row.table_name),
    totalBytes: Number(row.total_bytes),
    fileCount: Number(row.file_count),
    destroyFirst: Number(row.destroy_first) === 1,
  };
}

function isSmall(table: ClaimedTable): boolean {
  return table.totalBytes <= smallTableBytes && table.fileCount <= smallTableFiles;
}

/** Up to `slots` places, in queue order: a large table alone, small ones together. */
function packSlots(tables: readonly ClaimedTable[], slots: number): ClaimedTable[][] {
  const packed: ClaimedTable[][] = [];
  let group: ClaimedTable[] | undefined;
  let groupSize = 0;
  for (const table of tables) {
    if (!isSmall(table)) {
      if (packed.length >= slots) break;
      packed.push([table]);
      continue;
    }
    if (!group || group.length >= groupTables || groupSize + table.totalBytes > groupBytes) {
      if (packed.length >= slots) break;
      group = [];
      groupSize = 0;
      packed.push(group);
    }
    group.push(table);
    groupSize += table.totalBytes;
  }
  return packed;
}

export async function countTables(pool: Pool, task: TaskRef): Promise<TableCounts> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT state, COUNT(*) AS tables, COALESCE(SUM(total_bytes), 0) AS bytes, COALESCE(SUM(row_count), 0) AS row_total
       FROM ${planTableName(task.taskInfoSchema, 'table')} WHERE task_id = ${quoteText(task.taskId)} GROUP BY state`,
  );
  const counts: TableCounts = { queued: 0, running: 0, finished: 0, failed: 0, removed: 0, finishedBytes: 0, finishedRows: 0 };
  for (const row of rows) {
    const state = textOf(row.state) as TableQueueState;
    counts[state] = Number(row.tables);
    if (state === 'finished') {
      counts.finishedBytes = Number(row.bytes);
      counts.finishedRows = Number(row.row_total);
    }
  }
  return counts;
}

/** Marks the tables whose indexes are built after their rows: they start first (see restoreSchemas). */
export async function markTablesFirst(pool: Pool, task: TaskRef, ordinals: readonly number[]): Promise<void> {
  if (ordinals.length === 0) return;
  await pool.query(`UPDATE ${planTableName(task.taskInfoSchema, 'table')} SET first = 1 WHERE task_id = ${quoteText(task.taskId)} AND ordinal IN (${ordinals.join(', ')})`);
}

export interface TableOutcome {
  state: 'running' | 'finished' | 'failed';
  status: number;
  rows: number;
  doneBytes: number;
  chunks?: number;
  engines?: number;
  verify?: VerifyResult;
  failure?: TableFailure;
}

/** Records where a table stands: a stage reached while it runs, or how it ended. */
export async function recordTableOutcome(pool: Pool, task: TaskRef, ordinal: number, outcome: TableOutcome): Promise<void> {
  await pool.query(outcomeSql(task, ordinal, outcome));
}

/** Records how several tables ended, in one transaction (one commit for them all). */
export async function recordTableOutcomes(pool: Pool, task: TaskRef, outcomes: ReadonlyArray<{ ordinal: number; outcome: TableOutcome }>): Promise<void> {
  if (outcomes.length === 0) return;
  const connection = await pool.getConnection();
  try {
    await connection.query(['START TRANSACTION', ...outcomes.map(({ ordinal, outcome }) => outcomeSql(task, ordinal, outcome)), 'COMMIT'].join(';\n'));
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

function outcomeSql(task: TaskRef, ordinal: number, outcome: TableOutcome): string {
  const sets = [
    `state = ${quoteText(outcome.state)}`,
    `status = ${outcome.status}`,
    `row_count = ${outcome.rows}`,
    `done_bytes = ${outcome.doneBytes}`,
    `verify = ${outcome.verify ? json(outcome.verify) : 'NULL'}`,
    `failure = ${outcome.failure ? json(outcome.failure) : 'NULL'}`,
    ...(outcome.chunks === undefined ? [] : [`chunk_count = ${outcome.chunks}`]),
    ...(outcome.engines === undefined ? [] : [`engine_count = ${outcome.engines}`]),
    // A destroyed table that ran again is destroyed no more.
    'destroy_first = 0',
  ];
  return `UPDATE ${planTableName(task.taskInfoSchema, 'table')} SET ${sets.join(', ')} WHERE task_id = ${quoteText(task.taskId)} AND ordinal = ${ordinal}`;
}

export interface TableRecord {
  ordinal: number;
  key: string;
  schema: string;
  name: string;
  state: TableQueueState;
  status: number;
  rows: number;
  totalBytes: number;
  doneBytes: number;
  chunks: number;
  engines: number;
  verify?: VerifyResult;
  failure?: TableFailure;
}

/** Tables of the task where `where` holds, in plan order, from `afterOrdinal` on. */
export async function readTableRecords(pool: Pool, task: TaskRef, where: string, afterOrdinal = -1, limit = 500): Promise<TableRecord[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT ordinal, table_name, table_schema, table_only, state, status, row_count, total_bytes, done_bytes, chunk_count, engine_count, verify, failure
       FROM ${planTableName(task.taskInfoSchema, 'table')}
      WHERE task_id = ${quoteText(task.taskId)} AND ordinal > ${afterOrdinal}${where ? ` AND (${where})` : ''} ORDER BY ordinal LIMIT ${limit}`,
  );
  return rows.map((row) => ({
    ordinal: Number(row.ordinal),
    key: textOf(row.table_name),
    schema: textOf(row.table_schema),
    name: textOf(row.table_only),
    state: textOf(row.state) as TableQueueState,
    status: Number(row.status),
    rows: Number(row.row_count),
    totalBytes: Number(row.total_bytes),
    doneBytes: Number(row.done_bytes),
    chunks: Number(row.chunk_count),
    engines: Number(row.engine_count),
    verify: row.verify === null ? undefined : (JSON.parse(textOf(row.verify)) as VerifyResult),
    failure: row.failure === null ? undefined : (JSON.parse(textOf(row.failure)) as TableFailure),
  }));
}

/** How many lines one `ctl` answer lists before it counts the rest. */
const listedLines = 50;

/**
 * The `tidb-lightning-ctl` checkpoint commands on the queue: a failed table goes back to the queue
 * (`ignore`: it resumes from its chunk positions; `destroy`: it is dropped and imported again), or
 * leaves the task (`remove`).
 */
export async function applyCtlToQueue(pool: Pool, task: TaskRef, request: CheckpointCtlRequest): Promise<CheckpointCtlResponse> {
  const response = { changed: [] as string[], messages: [] as string[] };
  const say = (line: string) => {
    if (response.messages.length < listedLines) response.messages.push(line);
  };
  const named =
    request.tables === 'all'
      ? await allTablesFor(pool, task, request.action)
      : await Promise.all(request.tables.map(async (key) => ({ key, record: (await readTableRecords(pool, task, `table_name = ${quoteText(key)}`))[0] })));
  if (request.tables === 'all' && named.length === 0) say(request.action === 'remove' ? 'the task has no tables' : 'no table has failed: nothing changed');
  const table = planTableName(task.taskInfoSchema, 'table');
  for (const { key, record } of named) {
    if (!record) {
      say(`${key}: not a table of this task (write it as \`db\`.\`table\`, as the status lists it): nothing changed`);
      continue;
    }
    const where = `task_id = ${quoteText(task.taskId)} AND ordinal = ${record.ordinal}`;
    if (request.action === 'remove') {
      if (record.state === 'removed') say(`${key}: already removed`);
      else if (record.state === 'running') say(`${key}: being imported; remove it after it finishes or fails`);
      else {
        // The table leaves the task but stays in the target: whatever index it still lacks is added back first.
        await addBackBeforeRemove(pool, task, key);
        await deleteTableProgress(pool, task.taskInfoSchema, task.taskId, key);
        await pool.query(`UPDATE ${table} SET state = 'removed', status = ${CheckpointStatus.missing}, failure = NULL WHERE ${where} AND state <> 'running'`);
        response.changed.push(key);
        say(`${key}: checkpoint removed; the table is no longer part of this task`);
      }
      continue;
    }
    if (record.state !== 'failed') {
      say(`${key}: has not failed (it is ${describeState(record.state)}): nothing changed`);
      continue;
    }
    const destroy = request.action === 'destroy';
    await pool.query(
      `UPDATE ${table} SET state = 'queued', status = ${CheckpointStatus.loaded}, failure = NULL, claim = NULL, row_count = 0, done_bytes = 0${destroy ? ', destroy_first = 1' : ''} WHERE ${where} AND state = 'failed'`,
    );
    response.changed.push(key);
    say(destroy ? `${key}: the target table and its progress are dropped; it is imported again from scratch` : `${key}: back to loaded; it resumes from its chunk positions`);
  }
  if (response.changed.length > listedLines) response.messages.push(`… ${response.changed.length} tables changed in all`);
  // The answer names at most a page of tables: it is recorded in the task's history.
  response.changed = response.changed.slice(0, listedLines);
  return response;
}

async function allTablesFor(pool: Pool, task: TaskRef, action: CheckpointCtlRequest['action']): Promise<Array<{ key: string; record: TableRecord }>> {
  const records = await readAllTableRecords(pool, task, action === 'remove' ? `state <> 'removed'` : `state = 'failed'`);
  return records.map((record) => ({ key: record.key, record }));
}

/** Every table of the task where `where` holds, read a page at a time. */
export async function readAllTableRecords(pool: Pool, task: TaskRef, where: string): Promise<TableRecord[]> {
  const found: TableRecord[] = [];
  for (let after = -1; ; ) {
    const page = await readTableRecords(pool, task, where, after);
    found.push(...page);
    if (page.length < 500) return found;
    after = page[page.length - 1].ordinal;
  }
}

function describeState(state: TableQueueState): string {
  return { queued: 'waiting to be imported', running: 'being imported', finished: 'finished', failed: 'failed', removed: 'removed' }[state];
}
