import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { tableKey } from '../../activities/database/sql-text';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { importConfigDirectly, writeDirectConfig } from '../helpers/direct-import';
import { importOutcome, makeTempDir, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * Databases, tables and columns named with dots, spaces, backquotes, quotes and CJK, in file
 * names written as Dumpling writes them (it percent-escapes `%"*./:<>?\|` and control characters,
 * and keeps spaces and non-ASCII as they are) and fully percent-escaped (`my%20db`), in SQL column
 * lists (backquoted and double-quoted) and CSV headers: every name reaches the target quoted, and
 * every value lands. Emoji, which MariaDB refuses in names, stay in values.
 */

let env: TestWorkflowEnvironment;
let db: Connection;
const prefix = uniqueName('tempest_names');
/** Dumpling escapes the dot and the double quote; the space, backquote, quote and CJK stay. */
const weirdDb = `${prefix} d.b \`q' "中`;
const weirdDbFile = `${prefix} d%2Eb \`q' %22中`;
/** Fully escaped, as the brief's `my%20db` example. */
const escapedDb = `${prefix} 数 据`;
const escapedDbFile = `${prefix}%20%E6%95%B0%20%E6%8D%AE`;
const taskInfo = `${prefix}_info`;
const dir = makeTempDir('tempest-names');

const columns = ['id', 'co.l', 'c d', 'b`q', `s'q"d`, '列 名'];
const backquoted = (name: string) => '`' + name.replace(/`/g, '``') + '`';
const doubleQuoted = (name: string) => '"' + name.replace(/"/g, '""') + '"';
const csvQuoted = (text: string) => '"' + text.replace(/"/g, '""') + '"';
const sqlString = (text: string) => "'" + text.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";

const createTable = (table: string) =>
  `CREATE TABLE ${backquoted(table)} (\n  \`id\` int NOT NULL PRIMARY KEY,\n${columns
    .slice(1)
    .map((column) => `  ${backquoted(column)} varchar(40) DEFAULT NULL`)
    .join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n`;

/** Row i of every table: values with emoji, quotes and the names' own characters. */
const rowOf = (i: number): Array<number | string | null> => [i, `v.${i} 😀`, i % 3 === 0 ? null : `it's ${i}`, `b\`q${i}`, `"${i}"`, `中文${i}`];

/** Each table, the file name of its data (escaped as given) and its format. */
const tables = [
  { schema: weirdDb, schemaFile: weirdDbFile, name: 'ta.ble', fileName: 'ta%2Eble', format: 'sql-backquoted' },
  { schema: weirdDb, schemaFile: weirdDbFile, name: 'sp ace 表', fileName: 'sp ace 表', format: 'csv' },
  { schema: weirdDb, schemaFile: weirdDbFile, name: 'back`quote', fileName: 'back`quote', format: 'sql-double-quoted' },
  { schema: weirdDb, schemaFile: weirdDbFile, name: `quo'te"d`, fileName: `quo'te%22d`, format: 'csv' },
  // Dumpling escapes "-schema" inside a name, so that it cannot pass for a schema file's suffix.
  { schema: weirdDb, schemaFile: weirdDbFile, name: 'x-schema', fileName: 'x%2Dschema', format: 'sql-backquoted' },
  { schema: weirdDb, schemaFile: weirdDbFile, name: 'w*h:y?<>|', fileName: 'w%2Ah%3Ay%3F%3C%3E%7C', format: 'csv' },
  // A literal percent sign: Dumpling escapes it as %25.
  { schema: escapedDb, schemaFile: escapedDbFile, name: 'pct%20lit', fileName: 'pct%2520lit', format: 'sql-backquoted' },
  { schema: escapedDb, schemaFile: escapedDbFile, name: '表 two', fileName: '%E8%A1%A8%20two', format: 'csv' },
] as const;

const rowCount = 12;

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
  const source = path.join(dir, 'dump');
  fs.mkdirSync(source, { recursive: true });
  for (const [schema, file] of [
    [weirdDb, weirdDbFile],
    [escapedDb, escapedDbFile],
  ]) {
    fs.writeFileSync(path.join(source, `${file}-schema-create.sql`), `CREATE DATABASE ${backquoted(schema)} /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n`);
  }
  // The file's own column order is not the table's: the names decide.
  const order = [5, 0, 4, 3, 2, 1];
  for (const table of tables) {
    fs.writeFileSync(path.join(source, `${table.schemaFile}.${table.fileName}-schema.sql`), `/*!40101 SET NAMES binary*/;\n${createTable(table.name)}`);
    const rows = Array.from({ length: rowCount }, (_, i) => rowOf(i + 1));
    let body: string;
    if (table.format === 'csv') {
      body = [order.map((c) => csvQuoted(columns[c])).join(','), ...rows.map((row) => order.map((c) => (row[c] === null ? '\\N' : csvQuoted(String(row[c])))).join(','))].join('\n') + '\n';
    } else {
      const quote = table.format === 'sql-backquoted' ? backquoted : doubleQuoted;
      const values = rows.map((row) => `(${order.map((c) => (row[c] === null ? 'NULL' : typeof row[c] === 'number' ? String(row[c]) : sqlString(String(row[c])))).join(',')})`);
      body = `/*!40101 SET NAMES binary*/;\nINSERT INTO ${quote(table.name)} (${order.map((c) => quote(columns[c])).join(',')}) VALUES\n${values.join(',\n')};\n`;
    }
    fs.writeFileSync(path.join(source, `${table.schemaFile}.${table.fileName}.000000000.${table.format === 'csv' ? 'csv' : 'sql'}`), body);
  }
});

after(async () => {
  await dropDatabases(db, [weirdDb, escapedDb, taskInfo, `${prefix}_emoji`]);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('names with dots, spaces, backquotes, quotes, percent signs and CJK, in escaped and plain file names, SQL column lists and CSV headers', async () => {
  const config = writeConfig(dir, { sourceDir: path.join(dir, 'dump'), temporalAddress: env.address, taskQueue: uniqueName('q'), taskInfoSchema: taskInfo });
  const imported = await withWorker(env.nativeConnection, env.address, config, async () => importOutcome(await startImport(env.client, config), config));

  assert.deepEqual(imported.tables.map((table) => table.key).sort(), tables.map((table) => tableKey(table.schema, table.name)).sort(), 'table keys: backquoted, backquotes doubled');
  assert.ok(imported.tables.some((table) => table.key === `\`${weirdDb.replace('`', '``')}\`.\`back\`\`quote\``));
  for (const outcome of imported.tables) {
    assert.equal(outcome.status, CheckpointStatus.analyzed, JSON.stringify(outcome));
    assert.equal(outcome.verify?.status, 'checksummed', `${outcome.key}: ${outcome.verify?.note ?? ''}`);
    assert.equal(outcome.rows, rowCount);
  }
  const expected = Array.from({ length: rowCount }, (_, i) => rowOf(i + 1)).sort((a, b) => Number(a[0]) - Number(b[0]));
  for (const table of tables) {
    assert.deepEqual(await sortedRows(db, table.schema, table.name), expected, `${table.schema}.${table.name}: every value`);
    const [names] = await db.query<RowDataPacket[]>('SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [
      table.schema,
      table.name,
    ]);
    assert.deepEqual(names.map((row) => row.name), columns, `${table.name}: the columns keep their names`);
  }
});

test('a name MariaDB cannot hold (an emoji) fails with a message naming the schema file', async () => {
  const source = path.join(dir, 'emoji-dump');
  fs.mkdirSync(source, { recursive: true });
  const schema = `${prefix}_emoji`;
  fs.writeFileSync(path.join(source, `${schema}-schema-create.sql`), `CREATE DATABASE \`${schema}\`;\n`);
  fs.writeFileSync(path.join(source, `${schema}.smile😀-schema.sql`), 'CREATE TABLE `smile😀` (id INT);\n');
  fs.writeFileSync(path.join(source, `${schema}.smile😀.000000000.sql`), 'INSERT INTO `smile😀` VALUES (1);\n');
  const config = writeDirectConfig(path.join(dir, 'emoji'), { sourceDir: source, taskInfoSchema: taskInfo });
  await assert.rejects(importConfigDirectly(config), (error: Error) => {
    assert.ok(error.message.includes(`${source}/${schema}.smile😀-schema.sql`), error.message);
    assert.match(error.message, /`smile😀`.*the target cannot hold this name.*\[\[routes\]\]/);
    return true;
  });
});
