import type { Pool, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from '../failures';
import { forEachTable, tablePlanOf } from '../plan/task-plan';
import type { TablePlan, TaskSettings } from '../task-types';
import { tableNamesOf } from './create-schemas';
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

type CheckedTable = PrecheckInput['tables'][number];

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
    const problem = await tableProblem(pool, input, table, columns.length > 0);
    if (problem) problems.push(problem);
  }
  problems.push(...(await shardSchemaProblems(pool, input.taskInfoSchema, input.tables, onProgress)));
  failOn(problems, input.tables.length);
}

/** The same checks over a stored plan, a page of tables at a time; which tables exist is asked once per database. */
export async function precheckPlannedTables(pool: Pool, settings: TaskSettings, onProgress: () => void): Promise<void> {
  const problems: string[] = [];
  const existing = new Map<string, Set<string>>();
  let tables = 0;
  await forEachTable(pool, settings, async (head) => {
    onProgress();
    tables++;
    let names = existing.get(head.schema);
    if (!names) existing.set(head.schema, (names = await tableNamesOf(pool, head.schema)));
    const problem = await tableProblem(pool, settings, head, names.has(head.name.toLowerCase()));
    if (problem) problems.push(problem);
    if (head.schemaFiles.length > 1) problems.push(...(await shardSchemaProblems(pool, settings.taskInfoSchema, [tablePlanOf(settings, head)], onProgress)));
  });
  failOn(problems, tables);
}

async function tableProblem(pool: Pool, task: Pick<PrecheckInput, 'taskId' | 'taskInfoSchema'>, table: CheckedTable, exists: boolean): Promise<string | undefined> {
  if (!exists) return `${table.key} does not exist in the target (with [mydumper] no-schema = true it must be created beforehand)`;
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT 1 FROM ${qualifiedName(table.schema, table.name)} LIMIT 1`);
  if (rows.length > 0 && !(await tableHasProgress(pool, task.taskInfoSchema, task.taskId, table.key))) {
    return (
      `${table.key} already holds rows; Tempest imports only into empty tables so that no row is written twice: ` +
      `empty it (TRUNCATE TABLE ${table.key}) or leave it out of the import (add "!${table.schema}.${table.name}" to [mydumper] filter), then run again`
    );
  }
  return undefined;
}

/** Every problem at once, in one failure: the operator fixes them together. */
function failOn(problems: string[], tables: number): void {
  if (problems.length === 0) return;
  const listed = problems.length > 50 ? [...problems.slice(0, 50), `… ${problems.length - 50} more`] : problems;
  throw nonRetryable('PrecheckError', `precheck failed: ${listed.join('; ')}`, { tables, problems: problems.length });
}
