import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';

/**
 * The server the suite imports into (root, no password): the local MariaDB, as on the machines this
 * runs on, or the one `TEMPEST_TEST_TARGET=host:port` names (test/run-on-tidb.ts runs files so on a
 * tidb-server of its own).
 */
export const testTarget = targetOf(process.env.TEMPEST_TEST_TARGET ?? '127.0.0.1:3306');

/** What that server is, as test/run-on-tidb.ts says (`TEMPEST_TEST_TARGET_KIND=tidb`), for the few steps that differ. */
export const testTargetKind = process.env.TEMPEST_TEST_TARGET_KIND === 'tidb' ? 'tidb' : 'mariadb';

/** The name the import harness knows the target by. */
export const mariadb = testTarget;

function targetOf(address: string): { host: string; port: number; user: string; password: string } {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) throw new Error(`TEMPEST_TEST_TARGET must be host:port, not "${address}"`);
  return { host: match[1], port: Number(match[2]), user: 'root', password: '' };
}

/** A name no other test (or earlier run) uses, for databases, schemas and task queues. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
}

/** A plain utf8mb4 connection for preparing and inspecting databases. */
export function adminConnection(): Promise<Connection> {
  return mysql.createConnection({ ...testTarget, charset: 'utf8mb4', dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, multipleStatements: true });
}

export async function dropDatabases(connection: Connection, names: readonly string[]): Promise<void> {
  for (const name of names) await connection.query(`DROP DATABASE IF EXISTS \`${name.replace(/`/g, '``')}\``);
}

/** Every row of a table, sorted by all its columns: two tables hold the same rows when these are equal. */
export async function sortedRows(connection: Connection, schema: string, table: string): Promise<unknown[][]> {
  const [columns] = await connection.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [schema, table],
  );
  const order = columns.map((_, index) => index + 1).join(', ');
  const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;
  const [rows] = await connection.query({ sql: `SELECT * FROM ${quote(schema)}.${quote(table)} ORDER BY ${order}`, rowsAsArray: true });
  return rows as unknown[][];
}

/** Rows the running task has committed so far, by its progress table (0 before it exists). */
export async function committedRows(connection: Connection, taskInfoSchema: string): Promise<number> {
  try {
    const [rows] = await connection.query<RowDataPacket[]>(`SELECT COALESCE(SUM(row_count), 0) AS n FROM \`${taskInfoSchema}\`.tempest_chunk_v1`);
    return Number(rows[0].n);
  } catch {
    return 0;
  }
}

/**
 * An integration test file's place on the target and on disk: a connection for preparing and
 * checking (open during its tests), a scratch directory, and the databases its tests create (pushed
 * as they are named); all of it is removed once the file's tests are done.
 */
export function testScratch(dirPrefix: string): { readonly db: Connection; dir: string; databases: string[] } {
  let connection: Connection | undefined;
  const scratch = {
    get db(): Connection {
      if (!connection) throw new Error('the target connection opens before the first test');
      return connection;
    },
    dir: fs.mkdtempSync(path.join(os.tmpdir(), `${dirPrefix}-`)),
    databases: [] as string[],
  };
  before(async () => {
    connection = await adminConnection();
  });
  after(async () => {
    if (connection) {
      await dropDatabases(connection, scratch.databases);
      await connection.end();
    }
    fs.rmSync(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}
