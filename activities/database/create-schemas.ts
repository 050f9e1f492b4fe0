import type { Pool, RowDataPacket } from 'mysql2/promise';
import { forEachTable, readDatabases, tablePlanOf, type TableHead } from '../plan/task-plan';
import { markTablesFirst } from '../plan/table-queue';
import type { TaskSettings } from '../task-types';
import { textOf } from './connection';
import { deferSecondaryIndexes, referencedTables } from './deferred-indexes';
import { restoreDatabase, restoreTable } from './restore-schema';
import { quoteText } from './sql-text';

/**
 * Creates the task's databases and tables (those that do not exist), `lanes` tables at a time, with
 * no per-table scan of information_schema: which tables exist is asked once per database, which are
 * referenced by a foreign key once per database. Tables whose plain indexes are deferred
 * (add-index-by-sql) are marked to start first. Returns how many tables were created.
 */
export async function createSchemas(pool: Pool, settings: TaskSettings, lanes: number, onProgress: () => void): Promise<{ created: number; deferred: number }> {
  const databases = await readDatabases(pool, settings);
  for (const database of databases) {
    onProgress();
    await restoreDatabase(pool, database);
  }
  const existing = new Map<string, Set<string>>();
  for (const database of databases) existing.set(database.name, await tableNamesOf(pool, database.name));

  const created: TableHead[] = [];
  let pending: Array<Promise<void>> = [];
  await forEachTable(pool, settings, async (head) => {
    onProgress();
    const exists = existing.get(head.schema)?.has(head.name.toLowerCase()) ?? false;
    pending.push(
      restoreTable(pool, tablePlanOf(settings, head), exists).then((result) => {
        if (result === 'created') created.push(head);
      }),
    );
    if (pending.length >= lanes) {
      await Promise.all(pending);
      pending = [];
    }
  });
  await Promise.all(pending);

  // Once every table exists, so that a foreign key from a table created later is seen. A retry
  // finds the tables existing and defers nothing more; the end step repairs what it left.
  const deferring = settings.deferIndexes ? created.sort((a, b) => a.ordinal - b.ordinal) : [];
  const referenced = deferring.length > 0 ? await referencedTables(pool, databases.map((database) => database.name)) : new Set<string>();
  const deferred: number[] = [];
  for (const head of deferring) {
    onProgress();
    if ((await deferSecondaryIndexes(pool, settings, head, referenced)).length > 0) deferred.push(head.ordinal);
  }
  await markTablesFirst(pool, settings, deferred);
  return { created: created.length, deferred: deferred.length };
}

/** The tables of one database, lower case (what exists is asked once, not per table). */
export async function tableNamesOf(pool: Pool, schema: string): Promise<Set<string>> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteText(schema)}`);
  return new Set(rows.map((row) => textOf(row.TABLE_NAME).toLowerCase()));
}
