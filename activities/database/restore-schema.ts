import type { Pool } from 'mysql2/promise';
import { nonRetryable } from '../failures';
import { readSmallFile } from '../source/read-small-file';
import { splitSqlStatements } from '../source/sql-statements';
import type { DatabasePlan, TablePlan, ViewPlan } from '../task-types';
import { quoteName } from './sql-text';
import { readTargetColumns } from './table-columns';
import { unstorableNameFailure } from './unstorable-name';

/** Session statements in schema files (`SET NAMES …`) would change our connection, not the schema. */
const sessionStatement = /^(\/\*!\d*\s*)?SET\s/i;
const createDatabase = /^(\/\*!\d*\s*)?CREATE\s+(DATABASE|SCHEMA)\s+(?!IF\s+NOT\s+EXISTS)/i;
const quotedOrBareName = '(?:`(?:[^`]|``)+`|"(?:[^"]|"")+"|[^\\s.(`"]+)';
const createTableHead = new RegExp(`^(CREATE\\s+TABLE\\s+)(?:IF\\s+NOT\\s+EXISTS\\s+)?${quotedOrBareName}(?:\\s*\\.\\s*${quotedOrBareName})?`, 'i');

export async function restoreDatabase(pool: Pool, database: DatabasePlan): Promise<void> {
  const statements = database.schemaFile ? splitSqlStatements(await readSmallFile(database.schemaFile, database.schemaCharacterSet ?? 'binary')) : [];
  const creates = statements.filter((statement) => /CREATE\s+(DATABASE|SCHEMA)/i.test(statement));
  if (creates.length === 0) {
    await pool.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(database.name)}`);
    return;
  }
  for (const statement of creates) {
    await runSchemaStatement(pool, statement.replace(createDatabase, '$1CREATE $2 IF NOT EXISTS '), database.schemaFile ?? '');
  }
}

/**
 * Creates the target table from its schema file unless it already exists; the name is the (routed)
 * target's. `exists` is what the caller already knows (asked once for many tables).
 */
export async function restoreTable(pool: Pool, table: TablePlan, exists?: boolean): Promise<'created' | 'existed'> {
  const schemaFile = table.schemaFiles[0];
  const existing =
    exists ??
    (await readTargetColumns(pool, table.schema, table.name).catch((error: unknown) => {
      throw unstorableNameFailure(error, table.key, schemaFile) ?? error;
    })).length > 0;
  if (existing) return 'existed';
  if (!schemaFile) {
    throw nonRetryable('SchemaError', `${table.key}: the dump has no schema file for this table and it does not exist in the target. Create it, or add its {db}.{table}-schema.sql file.`);
  }
  const statements = splitSqlStatements(await readSmallFile(schemaFile, table.schemaCharacterSet ?? 'binary')).filter((statement) => !sessionStatement.test(statement));
  try {
    for (const statement of statements) {
      await runSchemaStatement(pool, renameCreateTable(statement, table.schema, table.name) ?? statement, schemaFile, table.schema);
    }
  } catch (error) {
    throw unstorableNameFailure(error, table.key, schemaFile) ?? error;
  }
  return 'created';
}

/** A schema file's CREATE TABLE statement creating `schema`.`name` (if it does not exist) instead; undefined for any other statement. */
export function renameCreateTable(statement: string, schema: string, name: string): string | undefined {
  return createTableHead.test(statement) ? statement.replace(createTableHead, `$1IF NOT EXISTS ${quoteName(schema)}.${quoteName(name)}`) : undefined;
}

export async function restoreView(pool: Pool, view: ViewPlan): Promise<void> {
  const statements = splitSqlStatements(await readSmallFile(view.schemaFile, view.schemaCharacterSet ?? 'binary')).filter((statement) => !sessionStatement.test(statement));
  for (const statement of statements) await runSchemaStatement(pool, statement, view.schemaFile, view.schema);
}

/** Runs one statement of a schema file, in `schema` when given (a table's or view's statements name no database). */
async function runSchemaStatement(pool: Pool, statement: string, file: string, schema?: string): Promise<void> {
  const connection = await pool.getConnection();
  try {
    if (schema !== undefined) await connection.query(`USE ${quoteName(schema)}`);
    await connection.query(statement);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code && code.startsWith('ER_') && code !== 'ER_LOCK_DEADLOCK') {
      const head = Buffer.from(statement.slice(0, 80), 'latin1').toString('utf8').replace(/\s+/g, ' ');
      throw nonRetryable('SchemaError', `${file}: the target refused "${head}…": ${(error as Error).message}. Fix the schema file (or create the object yourself), then resume.`);
    }
    throw error;
  } finally {
    connection.release();
  }
}

