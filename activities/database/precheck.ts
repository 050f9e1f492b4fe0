import type { Pool, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from '../failures';
import type { TablePlan } from '../task-types';
import { tableHasProgress } from './chunk-progress';
import { qualifiedName } from './sql-text';
import { shardSchemaProblems } from './shard-schemas';
import { readTargetColumns } from './table-columns';
import { unstorableNameFailure } from './unstorable-name';

export interface PrecheckInput {
  taskId: string;
  taskInfoSchema: string;
  tables: Array<Pick<TablePlan, 'key' | 'schema' | 'name'> & Partial<Pick<TablePlan, 'schemaFiles' | 'schemaSources' | 'schemaCharacterSet'>>>;
}

/**
 * Refuses to start writing into a table that already holds rows this task did not write:
 * that is how rows get imported twice. Reports every such table at once, with what to do.
 */
export async function precheckTargetTables(pool: Pool, input: PrecheckInput, onProgress: () => void): Promise<void> {
  const problems: string[] = [];
  for (const table of input.tables) {
    onProgress();
    const columns = await readTargetColumns(pool, table.schema, table.name).catch((error: unknown) => {
      throw unstorableNameFailure(error, table.key, undefined) ?? error;
    });
    if (columns.length === 0) {
      problems.push(`${table.key} does not exist in the target (with [mydumper] no-schema = true it must be created beforehand)`);
      continue;
    }
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT 1 FROM ${qualifiedName(table.schema, table.name)} LIMIT 1`);
    if (rows.length > 0 && !(await tableHasProgress(pool, input.taskInfoSchema, input.taskId, table.key))) {
      problems.push(
        `${table.key} already holds rows; Tempest imports only into empty tables so that no row is written twice: ` +
          `empty it (TRUNCATE TABLE ${table.key}) or leave it out of the import (add "!${table.schema}.${table.name}" to [mydumper] filter), then run again`,
      );
    }
  }
  problems.push(...(await shardSchemaProblems(pool, input.taskInfoSchema, input.tables, onProgress)));
  if (problems.length > 0) {
    throw nonRetryable('PrecheckError', `precheck failed: ${problems.join('; ')}`, { tables: input.tables.length, problems: problems.length });
  }
}
