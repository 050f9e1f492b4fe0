import type { Pool, RowDataPacket } from 'mysql2/promise';
import { textOf } from '../database/connection';
import { quoteText, tableKey } from '../database/sql-text';
import type { ChunkBoundaries } from '../source/plan-chunks';
import type { Compression, DataFile, DataFileType } from '../source/layout-types';
import type { DatabasePlan, TablePlan, TaskRef, TaskSettings, ViewPlan } from '../task-types';
import { planTableName } from './plan-tables';

/**
 * Reading a stored plan. A task's settings never change once stored, so a worker reads them once
 * per task and keeps them (workflows pass only the task's id and schema).
 */
const settingsCache = new Map<string, Promise<TaskSettings>>();

export function loadTaskSettings(pool: Pool, task: TaskRef): Promise<TaskSettings> {
  const cacheKey = `${task.taskInfoSchema}\0${task.taskId}`;
  let settings = settingsCache.get(cacheKey);
  if (!settings) {
    settings = readSettings(pool, task);
    settingsCache.set(cacheKey, settings);
    // A failed read (the target down) is not kept: the next activity asks again.
    settings.catch(() => settingsCache.delete(cacheKey));
  }
  return settings;
}

async function readSettings(pool: Pool, task: TaskRef): Promise<TaskSettings> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT settings FROM ${planTableName(task.taskInfoSchema, 'task')} WHERE task_id = ${quoteText(task.taskId)}`);
  if (rows.length === 0) throw new Error(`task ${task.taskId} has no stored plan in ${task.taskInfoSchema} (was the task-info schema dropped while it ran?)`);
  return JSON.parse(textOf(rows[0].settings)) as TaskSettings;
}

export interface TableHead {
  ordinal: number;
  key: string;
  schema: string;
  name: string;
  schemaFiles: string[];
  schemaSources: string[];
  totalBytes: number;
}

const headColumns = 'ordinal, table_name, table_schema, table_only, schema_files, schema_sources, total_bytes';

function headOf(row: RowDataPacket): TableHead {
  return {
    ordinal: Number(row.ordinal),
    key: textOf(row.table_name),
    schema: textOf(row.table_schema),
    name: textOf(row.table_only),
    schemaFiles: JSON.parse(textOf(row.schema_files)) as string[],
    schemaSources: JSON.parse(textOf(row.schema_sources)) as string[],
    totalBytes: Number(row.total_bytes),
  };
}

/** The plan's tables from `afterOrdinal` on, `limit` at a time: how every step that visits all tables walks them. */
export async function pageTables(pool: Pool, task: TaskRef, afterOrdinal: number, limit: number, where = ''): Promise<TableHead[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT ${headColumns} FROM ${planTableName(task.taskInfoSchema, 'table')}
      WHERE task_id = ${quoteText(task.taskId)} AND ordinal > ${afterOrdinal}${where ? ` AND ${where}` : ''} ORDER BY ordinal LIMIT ${limit}`,
  );
  return rows.map(headOf);
}

/** Calls `visit` on every table of the plan, in plan order, a page at a time. */
export async function forEachTable(pool: Pool, task: TaskRef, visit: (table: TableHead) => Promise<void>, where = ''): Promise<void> {
  for (let after = -1; ; ) {
    const page = await pageTables(pool, task, after, 500, where);
    for (const table of page) await visit(table);
    if (page.length < 500) return;
    after = page[page.length - 1].ordinal;
  }
}

export async function readTableHead(pool: Pool, task: TaskRef, match: { ordinal: number } | { key: string }): Promise<TableHead | undefined> {
  const condition = 'ordinal' in match ? `ordinal = ${match.ordinal}` : `table_name = ${quoteText(match.key)}`;
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT ${headColumns} FROM ${planTableName(task.taskInfoSchema, 'table')} WHERE task_id = ${quoteText(task.taskId)} AND ${condition}`,
  );
  return rows.length > 0 ? headOf(rows[0]) : undefined;
}

/** A table as planned, its data files included, and the chunk cuts of a checkpoint taken over. */
export async function readTablePlan(pool: Pool, settings: TaskSettings, head: TableHead): Promise<{ plan: TablePlan; boundaries: ChunkBoundaries }> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT path, type, compression, size, mtime_ms, file_ordinal, boundaries FROM ${planTableName(settings.taskInfoSchema, 'file')}
      WHERE task_id = ${quoteText(settings.taskId)} AND table_ordinal = ${head.ordinal} ORDER BY file_ordinal`,
  );
  const boundaries: ChunkBoundaries = {};
  const dataFiles: DataFile[] = rows.map((row) => {
    const path = textOf(row.path);
    if (row.boundaries !== null) boundaries[path] = JSON.parse(textOf(row.boundaries)) as Array<[number, number]>;
    return {
      path,
      type: textOf(row.type) as DataFileType,
      compression: textOf(row.compression) as Compression,
      size: Number(row.size),
      mtimeMs: Number(row.mtime_ms),
      key: String(row.file_ordinal),
    };
  });
  return { plan: { ...tablePlanOf(settings, head), dataFiles }, boundaries };
}

/** A table as planned, without its data files: what creating and checking it needs. */
export function tablePlanOf(settings: TaskSettings, head: TableHead): TablePlan {
  return {
    key: head.key,
    schema: head.schema,
    name: head.name,
    schemaFiles: head.schemaFiles,
    schemaSources: head.schemaSources,
    schemaCharacterSet: settings.characterSet,
    dataFiles: [],
    totalBytes: head.totalBytes,
  };
}

export async function readDatabases(pool: Pool, settings: TaskSettings): Promise<DatabasePlan[]> {
  return (await readObjects(pool, settings, 'database')).map((row) => ({ name: row.schema, schemaFile: row.schemaFile, schemaCharacterSet: settings.characterSet }));
}

export async function readViews(pool: Pool, settings: TaskSettings): Promise<ViewPlan[]> {
  return (await readObjects(pool, settings, 'view')).map((row) => ({
    key: tableKey(row.schema, row.name),
    schema: row.schema,
    name: row.name,
    schemaFile: row.schemaFile ?? '',
    schemaCharacterSet: settings.characterSet,
  }));
}

async function readObjects(pool: Pool, task: TaskRef, kind: 'database' | 'view'): Promise<Array<{ schema: string; name: string; schemaFile?: string }>> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT object_schema, object_name, schema_file FROM ${planTableName(task.taskInfoSchema, 'object')}
      WHERE task_id = ${quoteText(task.taskId)} AND kind = '${kind}' ORDER BY ordinal`,
  );
  return rows.map((row) => ({ schema: textOf(row.object_schema), name: textOf(row.object_name), schemaFile: row.schema_file === null ? undefined : textOf(row.schema_file) }));
}

/** Records the chunk cuts of a checkpoint taken over, for one file of a table. */
export async function storeFileBoundaries(pool: Pool, task: TaskRef, tableOrdinal: number, path: string, cuts: Array<[number, number]>): Promise<void> {
  await pool.query(
    `UPDATE ${planTableName(task.taskInfoSchema, 'file')} SET boundaries = ${quoteText(JSON.stringify(cuts))}
      WHERE task_id = ${quoteText(task.taskId)} AND table_ordinal = ${tableOrdinal} AND path = ${quoteText(path)}`,
  );
}
