import type { Pool } from 'mysql2/promise';
import type { TablePlan, TaskSettings } from '../task-types';
import { deleteTableProgress } from './chunk-progress';
import { deleteTableRecords } from './error-records';
import { restoreTable } from './restore-schema';
import { qualifiedName } from './sql-text';

/**
 * `--checkpoint-error-destroy`: the table's rows, progress and error records go, so it imports again from scratch.
 * The table is dropped and created anew from its schema file; with `no-schema` (the user owns the
 * table's definition) it is emptied instead.
 */
export async function destroyTargetTable(pool: Pool, settings: TaskSettings, table: TablePlan): Promise<void> {
  const name = qualifiedName(table.schema, table.name);
  if (settings.noSchema) await pool.query(`TRUNCATE TABLE ${name}`);
  else await pool.query(`DROP TABLE IF EXISTS ${name}`);
  await deleteTableProgress(pool, settings.taskInfoSchema, settings.taskId, table.key);
  await deleteTableRecords(pool, settings, table.key);
  if (!settings.noSchema) await restoreTable(pool, table);
}
