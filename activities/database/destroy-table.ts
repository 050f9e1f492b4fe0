import type { Pool } from 'mysql2/promise';
import type { TablePlan, TaskSettings } from '../task-types';
import { deleteTableProgress } from './chunk-progress';
import { deferSecondaryIndexes, forgetDeferredIndexes } from './deferred-indexes';
import { deleteTableRecords } from './error-records';
import { restoreTable } from './restore-schema';
import { qualifiedName } from './sql-text';

/**
 * `--checkpoint-error-destroy`: the table's rows, progress and error records go, so it imports again from scratch.
 * The table is dropped and created anew from its schema file (its plain indexes deferred again, with
 * add-index-by-sql); with `no-schema` (the user owns the table's definition) it is emptied instead.
 */
export async function destroyTargetTable(pool: Pool, settings: TaskSettings, table: TablePlan): Promise<void> {
  const name = qualifiedName(table.schema, table.name);
  if (settings.noSchema) await pool.query(`TRUNCATE TABLE ${name}`);
  else await pool.query(`DROP TABLE IF EXISTS ${name}`);
  // The dropped table's deferred indexes went with it; the new one defers its own.
  await forgetDeferredIndexes(pool, settings, table.key);
  await deleteTableProgress(pool, settings.taskInfoSchema, settings.taskId, table.key);
  await deleteTableRecords(pool, settings, table.key);
  if (settings.noSchema) return;
  if ((await restoreTable(pool, table)) === 'created' && settings.deferIndexes) await deferSecondaryIndexes(pool, settings, table);
}
