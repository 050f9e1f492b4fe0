import crypto from 'node:crypto';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { readSmallFile } from '../source/read-small-file';
import { splitSqlStatements } from '../source/sql-statements';
import type { TablePlan } from '../task-types';
import { textOf } from './connection';
import { renameCreateTable } from './restore-schema';
import { quoteName, quoteText } from './sql-text';

type ShardedTable = Pick<TablePlan, 'key'> & Partial<Pick<TablePlan, 'schemaFiles' | 'schemaSources' | 'schemaCharacterSet'>>;

interface ColumnShape {
  name: string;
  /** What a difference in which would misplace or mangle a shard's values: type, nullability, character set, generation. */
  definition: string;
}

interface TableShape {
  source: string;
  file: string;
  columns: ColumnShape[];
}

/**
 * When `[[routes]]` merge several source tables into one target table, the target is created from
 * the first one's schema file, and every shard's rows go into it: a shard whose columns differ
 * (another order, another type, one more column) would land in the wrong columns or fail halfway.
 * Each shard's CREATE TABLE is given to the target itself, as a scratch table in the task-info
 * schema, so the columns compared are the server's reading of the file, whatever its formatting.
 * Returns one problem per target table whose shards disagree, naming them and the first difference.
 */
export async function shardSchemaProblems(pool: Pool, taskInfoSchema: string, tables: readonly ShardedTable[], onProgress: () => void): Promise<string[]> {
  const problems: string[] = [];
  for (const table of tables) {
    const files = table.schemaFiles ?? [];
    if (files.length < 2) continue;
    let first: TableShape | undefined;
    for (const [index, file] of files.entries()) {
      onProgress();
      const source = table.schemaSources?.[index] ?? file;
      let shape: TableShape;
      try {
        shape = { source, file, columns: await columnsOfSchemaFile(pool, taskInfoSchema, file, table) };
      } catch (error) {
        const refused = error instanceof UnusableSchemaFile || (error as { code?: string }).code?.startsWith('ER_');
        if (!refused) throw error;
        problems.push(`${source}, routed into ${table.key}: its schema file ${file} cannot be compared with the other shards': ${(error as Error).message}. Fix the file, then run again`);
        break;
      }
      if (!first) {
        first = shape;
        continue;
      }
      const difference = firstDifference(first, shape);
      if (difference) {
        problems.push(
          `${table.key} merges sharded tables whose columns differ: ${difference}. ` +
            'Make the shards\' schema files agree (their rows all go into one table), or route them into different tables, then run again',
        );
        break;
      }
    }
  }
  return problems;
}

/** The columns a schema file's CREATE TABLE makes, read back from a scratch copy of it. */
async function columnsOfSchemaFile(pool: Pool, taskInfoSchema: string, file: string, table: ShardedTable): Promise<ColumnShape[]> {
  const statements = splitSqlStatements(await readSmallFile(file, table.schemaCharacterSet ?? 'binary'));
  // Unique per task-info schema and file: a retried check replaces its own leftover.
  const scratch = `tempest_shard_check_${crypto.createHash('sha1').update(file).digest('hex').slice(0, 16)}`;
  const creates = statements.map((statement) => renameCreateTable(statement, taskInfoSchema, scratch)).filter((statement) => statement !== undefined);
  if (creates.length !== 1) throw new UnusableSchemaFile(`it holds ${creates.length} CREATE TABLE statements, not one`);
  const connection = await pool.getConnection();
  const name = `${quoteName(taskInfoSchema)}.${quoteName(scratch)}`;
  try {
    // Unqualified names in the statement (a foreign key's table) resolve here; foreign key checks are off on target sessions.
    await connection.query(`USE ${quoteName(taskInfoSchema)}`);
    await connection.query(`DROP TABLE IF EXISTS ${name}`);
    await connection.query(creates[0]);
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, GENERATION_EXPRESSION
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ${quoteText(taskInfoSchema)} AND TABLE_NAME = ${quoteText(scratch)}
        ORDER BY ORDINAL_POSITION`,
    );
    return rows.map((row) => {
      const generated = textOf(row.GENERATION_EXPRESSION);
      const charset = textOf(row.CHARACTER_SET_NAME);
      const definition = [
        textOf(row.COLUMN_TYPE).toLowerCase(),
        charset ? `character set ${charset}` : '',
        textOf(row.IS_NULLABLE) === 'NO' ? 'not null' : 'null',
        generated ? `as (${generated})` : '',
      ];
      return { name: textOf(row.COLUMN_NAME), definition: definition.filter((part) => part !== '').join(' ') };
    });
  } finally {
    await connection.query(`DROP TABLE IF EXISTS ${name}`).catch(() => undefined);
    connection.release();
  }
}

class UnusableSchemaFile extends Error {}

function firstDifference(expected: TableShape, actual: TableShape): string | undefined {
  const describe = (shape: TableShape) => `${shape.source} (${shape.file})`;
  const count = Math.max(expected.columns.length, actual.columns.length);
  for (let i = 0; i < count; i++) {
    const want = expected.columns[i];
    const got = actual.columns[i];
    const column = (shape: ColumnShape) => `\`${shape.name.replace(/`/g, '``')}\` ${shape.definition}`;
    if (!got) return `${describe(actual)} has no column ${i + 1}, where ${describe(expected)} has ${column(want)}`;
    if (!want) return `${describe(actual)} has a column ${i + 1}, ${column(got)}, that ${describe(expected)} does not have`;
    if (want.name.toLowerCase() !== got.name.toLowerCase() || want.definition !== got.definition) {
      return `column ${i + 1} of ${describe(actual)} is ${column(got)}, where ${describe(expected)} has ${column(want)}`;
    }
  }
  return undefined;
}
