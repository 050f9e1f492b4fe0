import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { quoteText } from '../database/sql-text';
import type { SourcePlan, TaskSettings } from '../task-types';
import { inTransaction, planTableName } from './plan-tables';

/** What a task's plan holds, in numbers: all that its workflow keeps of it. */
export interface PlanSummary {
  tables: number;
  totalBytes: number;
  databases: number;
  views: number;
}

/** Rows per INSERT: a few hundred keep each statement far below any packet limit. */
const rowsPerInsert = 400;

/**
 * Stores the plan of a task once: a retried planning step finds it stored and returns the same
 * summary, so the plan a task runs by never changes under it. Written in one transaction, so a
 * crash leaves all of it or none.
 */
export async function storeSourcePlan(pool: Pool, settings: TaskSettings, plan: SourcePlan): Promise<PlanSummary> {
  const stored = await readPlanSummary(pool, settings);
  if (stored) return stored;
  const summary: PlanSummary = {
    tables: plan.tables.length,
    totalBytes: plan.tables.reduce((sum, table) => sum + table.totalBytes, 0),
    databases: plan.databases.length,
    views: plan.views.length,
  };
  const task = quoteText(settings.taskId);
  await inTransaction(pool, async (connection) => {
    await insertRows(
      connection,
      planTableName(settings.taskInfoSchema, 'table'),
      'task_id, ordinal, table_name, table_schema, table_only, schema_files, schema_sources, file_count, total_bytes',
      plan.tables.map((table, ordinal) =>
        [task, ordinal, quoteText(table.key), quoteText(table.schema), quoteText(table.name), json(table.schemaFiles), json(table.schemaSources ?? []), table.dataFiles.length, table.totalBytes].join(', '),
      ),
    );
    await insertRows(
      connection,
      planTableName(settings.taskInfoSchema, 'file'),
      'task_id, table_ordinal, file_ordinal, path, type, compression, size, mtime_ms',
      plan.tables.flatMap((table, ordinal) =>
        table.dataFiles.map((file, index) => [task, ordinal, index, quoteText(file.path), quoteText(file.type), quoteText(file.compression), file.size, file.mtimeMs].join(', ')),
      ),
    );
    await insertRows(
      connection,
      planTableName(settings.taskInfoSchema, 'object'),
      'task_id, kind, ordinal, object_schema, object_name, schema_file',
      [
        ...plan.databases.map((database, ordinal) => [task, `'database'`, ordinal, quoteText(database.name), "''", nullable(database.schemaFile)].join(', ')),
        ...plan.views.map((view, ordinal) => [task, `'view'`, ordinal, quoteText(view.schema), quoteText(view.name), nullable(view.schemaFile)].join(', ')),
      ],
    );
    await connection.query(
      `INSERT INTO ${planTableName(settings.taskInfoSchema, 'task')} (task_id, settings, table_count, total_bytes, database_count, view_count)
       VALUES (${task}, ${json(settings)}, ${summary.tables}, ${summary.totalBytes}, ${summary.databases}, ${summary.views})`,
    );
  });
  return summary;
}

export async function readPlanSummary(pool: Pool, task: Pick<TaskSettings, 'taskId' | 'taskInfoSchema'>): Promise<PlanSummary | undefined> {
  let rows: RowDataPacket[];
  try {
    [rows] = await pool.query<RowDataPacket[]>(
      `SELECT table_count, total_bytes, database_count, view_count FROM ${planTableName(task.taskInfoSchema, 'task')} WHERE task_id = ${quoteText(task.taskId)}`,
    );
  } catch (error) {
    // No plan was ever stored in this schema (a task of Tempest 0.1).
    if ((error as { errno?: number }).errno === 1146) return undefined;
    throw error;
  }
  if (rows.length === 0) return undefined;
  const row = rows[0];
  return { tables: Number(row.table_count), totalBytes: Number(row.total_bytes), databases: Number(row.database_count), views: Number(row.view_count) };
}

export async function insertRows(connection: Pool | PoolConnection, table: string, columns: string, rows: readonly string[]): Promise<void> {
  for (let start = 0; start < rows.length; start += rowsPerInsert) {
    const values = rows.slice(start, start + rowsPerInsert).map((row) => `(${row})`);
    await connection.query(`INSERT INTO ${table} (${columns}) VALUES ${values.join(', ')}`);
  }
}

export function json(value: unknown): string {
  return quoteText(JSON.stringify(value));
}

function nullable(text: string | undefined): string {
  return text === undefined ? 'NULL' : quoteText(text);
}
