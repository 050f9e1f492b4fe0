import type { Pool, RowDataPacket } from 'mysql2/promise';
import { isTransient, nonRetryable } from '../failures';
import type { TaskSettings } from '../task-types';
import { textOf } from './connection';
import { withoutValues } from './target-errors';
import { bytesOf, qualifiedName, quoteName, quoteText, tableKey } from './sql-text';

/**
 * `[tikv-importer] add-index-by-sql`: a table Tempest creates loads without its plain secondary
 * indexes, which get added back in one ALTER once its rows are in. Keeping a B-tree sorted row by row
 * costs the server more than building it in one pass afterwards (measured: 4.9 CPU-seconds against
 * 2.1 + 1.2 for 1.1M rows and one KEY).
 *
 * Which indexes are missing is recorded on the target, in the task-info schema, before they are
 * dropped: whatever crashes in between, the recorded definitions are enough to put the table back.
 * Unique keys stay (they decide which rows are duplicates while loading), and so do full-text and
 * spatial keys, and every index of a table in a foreign key (the constraint may need it).
 */

const deferredTable = 'tempest_deferred_index_v1';

/** One secondary index taken off a table until its rows are in. */
export interface DeferredIndex {
  name: string;
  /** As SHOW CREATE TABLE prints it, e.g. KEY `ab` (`a`,`b`(10)): what follows ADD. */
  definition: string;
}

type TableRef = { key: string; schema: string; name: string };
type TaskRef = Pick<TaskSettings, 'taskId' | 'taskInfoSchema'>;

function deferredTableName(taskInfoSchema: string): string {
  return `${quoteName(taskInfoSchema)}.${quoteName(deferredTable)}`;
}

export async function ensureDeferredIndexTable(pool: Pool, taskInfoSchema: string): Promise<void> {
  await pool.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(taskInfoSchema)}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${deferredTableName(taskInfoSchema)} (
       task_id VARCHAR(128) NOT NULL,
       table_name VARCHAR(261) NOT NULL COMMENT 'the table key, as in tempest_chunk_v1',
       table_schema VARCHAR(64) NOT NULL,
       table_only VARCHAR(64) NOT NULL COMMENT 'the table name without its schema',
       index_name VARCHAR(64) NOT NULL,
       position INT NOT NULL COMMENT 'its place in SHOW CREATE TABLE: added back in the same order',
       definition TEXT NOT NULL COMMENT 'what ALTER TABLE ... ADD takes, as SHOW CREATE TABLE printed it',
       create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
       PRIMARY KEY (task_id, table_name, index_name)
     ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`,
  );
}

const quoted = '`(?:[^`]|``)+`';
/** A plain index line of SHOW CREATE TABLE; UNIQUE, PRIMARY, FULLTEXT, SPATIAL and foreign keys start otherwise. */
const plainIndexLine = new RegExp(`^  KEY (${quoted}) \\((${quoted})?`);
const foreignKeyLine = new RegExp(`^  CONSTRAINT (?:${quoted} )?FOREIGN KEY `, 'm');

function unquote(name: string): string {
  return name.slice(1, -1).replace(/``/g, '`');
}

/** The plain (non-unique B-tree) indexes of a CREATE TABLE as SHOW CREATE TABLE prints it, each with its first column. */
function plainIndexesOf(createTable: string): Array<DeferredIndex & { firstColumn?: string }> {
  const indexes: Array<DeferredIndex & { firstColumn?: string }> = [];
  for (const line of createTable.split('\n')) {
    const match = plainIndexLine.exec(line);
    if (!match) continue;
    indexes.push({ name: unquote(match[1]), definition: line.trim().replace(/,$/, ''), firstColumn: match[2] ? unquote(match[2]) : undefined });
  }
  return indexes;
}

/**
 * For a table Tempest has just created (so nobody else's): records its plain secondary indexes, then
 * drops them, in that order, so a crash between the two leaves a record of indexes still there (the
 * end step adds nothing), never an index gone without a record. Returns the names dropped.
 */
export async function deferSecondaryIndexes(pool: Pool, task: TaskRef, table: TableRef, referenced?: ReadonlySet<string>): Promise<string[]> {
  const createTable = await showCreateTable(pool, table);
  if (foreignKeyLine.test(createTable) || (referenced ? referenced.has(table.key) : await isReferenced(pool, table))) return [];
  // The server needs an index that starts with the AUTO_INCREMENT column: such a key stays.
  const autoIncrement = autoIncrementColumnOf(createTable)?.toLowerCase();
  const indexes = plainIndexesOf(createTable).filter((index) => index.firstColumn === undefined || index.firstColumn.toLowerCase() !== autoIncrement);
  if (indexes.length === 0) return [];
  await recordDeferredIndexes(pool, task, table, indexes);
  try {
    await pool.query(`ALTER TABLE ${qualifiedName(table.schema, table.name)} ${indexes.map((index) => `DROP INDEX ${quoteName(index.name)}`).join(', ')}`);
  } catch (error) {
    // The server refused (an engine or version without this ALTER): the indexes are all still
    // there, as the ALTER is atomic, and the table loads with them, only slower.
    if (isTransient(error)) throw error;
    await forgetDeferredIndexes(pool, task, table.key);
    return [];
  }
  return indexes.map((index) => index.name);
}

/**
 * The tables of `schemas` that another table's foreign key points at, as table keys: one query per
 * database, where asking per table would scan every table of the server each time.
 */
export async function referencedTables(pool: Pool, schemas: readonly string[]): Promise<Set<string>> {
  const referenced = new Set<string>();
  for (const schema of schemas) {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT UNIQUE_CONSTRAINT_SCHEMA AS table_schema, REFERENCED_TABLE_NAME AS table_name FROM information_schema.REFERENTIAL_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA = ${quoteText(schema)}`,
    );
    for (const row of rows) referenced.add(tableKey(textOf(row.table_schema), textOf(row.table_name)));
  }
  return referenced;
}

async function recordDeferredIndexes(pool: Pool, task: TaskRef, table: TableRef, indexes: readonly DeferredIndex[]): Promise<void> {
  const values = indexes.map((index, position) =>
    [task.taskId, table.key, table.schema, table.name, index.name].map(quoteText).concat(String(position), quoteText(index.definition)).join(', '),
  );
  // IGNORE: a retry after a crash past this point finds its rows there already.
  await pool.query(
    `INSERT IGNORE INTO ${deferredTableName(task.taskInfoSchema)} (task_id, table_name, table_schema, table_only, index_name, position, definition)
     VALUES ${values.map((row) => `(${row})`).join(', ')}`,
  );
}

/** The indexes recorded as taken off the table and not yet known to be back, in their original order. */
export async function readDeferredIndexes(pool: Pool, task: TaskRef, tableKey: string): Promise<DeferredIndex[]> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT index_name, definition FROM ${deferredTableName(task.taskInfoSchema)}
        WHERE task_id = ${quoteText(task.taskId)} AND table_name = ${quoteText(tableKey)} ORDER BY position`,
    );
    return rows.map((row) => ({ name: textOf(row.index_name), definition: textOf(row.definition) }));
  } catch (error) {
    if (isMissingTable(error)) return [];
    throw error;
  }
}

/** The tables of the task with indexes recorded as deferred. */
async function tablesWithDeferredIndexes(pool: Pool, task: TaskRef, tableKey?: string): Promise<TableRef[]> {
  const oneTable = tableKey === undefined ? '' : ` AND table_name = ${quoteText(tableKey)}`;
  try {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT DISTINCT table_name, table_schema, table_only FROM ${deferredTableName(task.taskInfoSchema)} WHERE task_id = ${quoteText(task.taskId)}${oneTable}`,
    );
    return rows.map((row) => ({ key: textOf(row.table_name), schema: textOf(row.table_schema), name: textOf(row.table_only) }));
  } catch (error) {
    if (isMissingTable(error)) return [];
    throw error;
  }
}

/**
 * The end step: adds back whichever recorded indexes the table lacks, all in one ALTER (one pass
 * over the rows), then forgets them. Whatever state a crash left (not dropped yet, dropped, some or
 * all added back by an earlier attempt), it ends with every index there. Returns the names added.
 */
export async function addDeferredIndexes(pool: Pool, task: TaskRef, table: TableRef, afterRemove = false): Promise<string[]> {
  const recorded = await readDeferredIndexes(pool, task, table.key);
  if (recorded.length === 0) return [];
  let added: string[];
  try {
    added = await addMissingIndexes(pool, table, recorded, afterRemove);
  } catch (error) {
    // Duplicate key name: an earlier attempt's ALTER, outliving its connection, finished in between.
    if (!isDuplicateKeyName(error)) throw error;
    added = await addMissingIndexes(pool, table, recorded, afterRemove).catch((again: unknown) => {
      throw isDuplicateKeyName(again) ? addFailure(again, table, recorded, afterRemove) : again;
    });
  }
  await forgetDeferredIndexes(pool, task, table.key);
  return added;
}

/**
 * `--checkpoint-remove`: the table leaves the task but stays in the target, so whatever index it
 * still lacks is added back first. The record names the table: nothing else is needed.
 */
export async function addBackBeforeRemove(pool: Pool, task: TaskRef, tableKey: string): Promise<string[]> {
  const [table] = await tablesWithDeferredIndexes(pool, task, tableKey);
  return table ? addDeferredIndexes(pool, task, table, true) : [];
}

/**
 * The end of the task: every table still on record is one removed from it, whose own add-back
 * failed or has not run yet (it is not awaited). Adding them here, not only forgetting them, is
 * what makes sure a removed table is never left without its indexes.
 */
export async function addBackTaskDeferredIndexes(pool: Pool, task: TaskRef): Promise<string[]> {
  const added: string[] = [];
  for (const table of await tablesWithDeferredIndexes(pool, task)) {
    added.push(...(await addDeferredIndexes(pool, task, table, true)).map((name) => `${table.key}.${name}`));
  }
  return added;
}

/** Adds the recorded indexes the table lacks now; lets a duplicate key name through, for the caller to look again. */
async function addMissingIndexes(pool: Pool, table: TableRef, recorded: readonly DeferredIndex[], afterRemove: boolean): Promise<string[]> {
  const present = await indexNamesOf(pool, table);
  const missing = recorded.filter((index) => !present.has(index.name.toLowerCase()));
  if (missing.length === 0) return [];
  try {
    await pool.query(`ALTER TABLE ${qualifiedName(table.schema, table.name)} ${missing.map((index) => `ADD ${bytesOf(index.definition)}`).join(', ')}`);
  } catch (error) {
    throw isDuplicateKeyName(error) ? error : addFailure(error, table, missing, afterRemove);
  }
  return missing.map((index) => index.name);
}

function isDuplicateKeyName(error: unknown): boolean {
  return (error as { errno?: number }).errno === 1061;
}

/** A server refusal is the operator's to fix (space, limits), and says how; a lost connection is retried. */
function addFailure(error: unknown, table: TableRef, missing: readonly DeferredIndex[], afterRemove: boolean): unknown {
  if (isTransient(error)) return error;
  const reason = `${(error as { code?: string }).code}: ${withoutValues((error as Error).message)}`;
  const definitions = missing.map((index) => index.definition);
  const statement = `ALTER TABLE ${table.key} ${definitions.map((definition) => `ADD ${definition}`).join(', ')}`;
  const todo = afterRemove
    ? `The table was removed from the task: add them yourself once the cause is fixed (${statement}).`
    : `Fix the cause (an index build sorts in the server's tmpdir: free space there), then resume with ` +
      `tempest ctl --checkpoint-error-ignore='${table.key}', which adds those still missing; or add them yourself (${statement}) and resume the same way.`;
  return nonRetryable(
    'TargetError',
    `${table.key}: ${afterRemove ? 'its' : 'all its rows are in, but'} adding back the secondary indexes left out while loading failed: ${reason}. ` +
      `Indexes missing: ${definitions.join(', ')}. ${todo} ` +
      'To keep the indexes while loading in later imports, set [tikv-importer] add-index-by-sql = false.',
    { table: table.key, indexes: missing.map((index) => index.name) },
  );
}

/** Index names of the table, lower case (the server compares them so). */
async function indexNamesOf(pool: Pool, table: TableRef): Promise<Set<string>> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${quoteText(table.schema)} AND TABLE_NAME = ${quoteText(table.name)}`,
  );
  return new Set(rows.map((row) => textOf(row.INDEX_NAME).toLowerCase()));
}

async function showCreateTable(pool: Pool, table: TableRef): Promise<string> {
  const [rows] = await pool.query<RowDataPacket[]>(`SHOW CREATE TABLE ${qualifiedName(table.schema, table.name)}`);
  return textOf(rows[0]['Create Table']);
}

/** Another table's foreign key points at this one (it may rely on one of its indexes). */
async function isReferenced(pool: Pool, table: TableRef): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT 1 FROM information_schema.KEY_COLUMN_USAGE
      WHERE REFERENCED_TABLE_SCHEMA = ${quoteText(table.schema)} AND REFERENCED_TABLE_NAME = ${quoteText(table.name)} LIMIT 1`,
  );
  return rows.length > 0;
}

/** The AUTO_INCREMENT column, as SHOW CREATE TABLE prints its line. */
function autoIncrementColumnOf(createTable: string): string | undefined {
  const line = /^  (`(?:[^`]|``)+`) [^\n]*\bAUTO_INCREMENT\b/m.exec(createTable);
  return line ? unquote(line[1]) : undefined;
}

/** Forgets the table's records: once its indexes are back, or when the table itself is dropped. */
export async function forgetDeferredIndexes(pool: Pool, task: TaskRef, tableKey: string): Promise<void> {
  await deleteIgnoringMissingTable(pool, `DELETE FROM ${deferredTableName(task.taskInfoSchema)} WHERE task_id = ${quoteText(task.taskId)} AND table_name = ${quoteText(tableKey)}`);
}

export async function forgetTaskDeferredIndexes(pool: Pool, task: TaskRef): Promise<void> {
  await deleteIgnoringMissingTable(pool, `DELETE FROM ${deferredTableName(task.taskInfoSchema)} WHERE task_id = ${quoteText(task.taskId)}`);
}

/** A task started before this table existed never recorded anything in it. */
async function deleteIgnoringMissingTable(pool: Pool, statement: string): Promise<void> {
  try {
    await pool.query(statement);
  } catch (error) {
    if (!isMissingTable(error)) throw error;
  }
}

function isMissingTable(error: unknown): boolean {
  return (error as { errno?: number }).errno === 1146;
}
