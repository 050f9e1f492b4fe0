import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { seededRandom } from '../helpers/dump-fixture';
import { importConfigDirectly, writeDirectConfig, type DirectImportOutcome } from '../helpers/direct-import';
import { sortedRows, testScratch, uniqueName } from '../helpers/target-db';

/**
 * The same dump imported with logical-import-method "insert" and "load-data" must leave the same
 * tables: LOAD DATA is only a faster road to what the INSERTs store.
 */

const scratch = testScratch('tempest-load-data');
const { dir, databases } = scratch;

const pieces = ['a', 'Z', ' ', '\t', '\n', '\r', '\\', "'", '"', '\0', '\\N', 'NULL', '%', '_', '中', '😀', 'é', ','];

function sqlString(text: string): string {
  return `'${text.replace(/[\\'\0\n\r]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r' })[c]!)}'`;
}

/** Rows every value of which LOAD DATA carries: strings of every awkward byte, hex, canonical numbers, NULLs. */
function loadableRows(): string[] {
  const random = seededRandom(11);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const text = (max: number) => Array.from({ length: int(0, max) }, () => pieces[int(0, pieces.length - 1)]).join('');
  const rows: string[] = [];
  for (let id = 1; id <= 200; id++) {
    const s = id % 7 === 0 ? `${int(-999, 999)}.${int(10, 99)}` : sqlString(text(10));
    const bytes = Buffer.from(text(4));
    const hex = id % 5 === 0 || bytes.length === 0 ? "X'00ff09'" : `0x${bytes.toString('hex')}`;
    rows.push(
      `(${id},${s},${id % 9 === 0 ? 'NULL' : sqlString(text(30))},${id % 3 === 0 ? "''" : hex},${sqlString(text(2).slice(0, 2))},${sqlString('ab')},` +
        `${int(-2_000_000_000, 2_000_000_000)},${id % 6 === 0 ? '18446744073709551615' : int(0, 1e9)},${int(-99999, 99999)}.${int(10, 99)},` +
        `${int(-999, 999)}.${int(0, 9)}e-${int(0, 30)},${id % 8 === 0 ? '1.7976931348623157e308' : ['0.1', '-0.5', '3.14159'][id % 3]},` +
        `'2024-0${int(1, 9)}-1${int(0, 9)} 0${int(0, 9)}:1${int(0, 9)}:2${int(0, 9)}.${int(100, 999)}','1999-12-31','-12:34:56',${sqlString(['a', 'b', 'c'][id % 3])},${sqlString(id % 2 ? 'x,y' : '')})`,
    );
  }
  return rows;
}

/** A file (so a batch) a row, each with a literal LOAD DATA would read otherwise than the INSERT does, or with a note. */
const fallbackRows = [
  "(1,007,'a',2001,'2024-01-02 03:04:05',1,1.00)",
  "(2,1e3,2,2002,'2024-01-02 03:04:05',2,2.00)",
  "(3,-0,'c',0,'2024-01-02 03:04:05',3,3.00)",
  "(4,'x','a',24,20240102030405,4,4.00)",
  "(5,'x','a',2005,'2024-01-02 03:04:05',b'101',5.00)",
  "(6,'x','a',2006,'2024-01-02 03:04:05',0x10,6.00)",
  // LOAD DATA is tried, but rounding 1.005 raises a note: rolled back, sent as an INSERT.
  "(8,'x','a','2008','2024-01-02 03:04:05',8,1.005)",
  // This one LOAD DATA takes: TRUE is 1.
  "(7,'x','a','2007','2024-01-02 03:04:05',TRUE,7.00)",
];

/** What the INSERT's literals mean, kept by the fallback: 007 → '7', 1e3 → '1000', enum index 2 → 'b', YEAR 0 → 0000, b'101' → 5, 0x10 → 16, TRUE → 1, 1.005 rounded. */
const fallbackExpected = [
  [1, '7', 'a', 2001, '2024-01-02 03:04:05', 1, '1.00'],
  [2, '1000', 'b', 2002, '2024-01-02 03:04:05', 2, '2.00'],
  [3, '0', 'c', 0, '2024-01-02 03:04:05', 3, '3.00'],
  [4, 'x', 'a', 2024, '2024-01-02 03:04:05', 4, '4.00'],
  [5, 'x', 'a', 2005, '2024-01-02 03:04:05', 5, '5.00'],
  [6, 'x', 'a', 2006, '2024-01-02 03:04:05', 16, '6.00'],
  [7, 'x', 'a', 2007, '2024-01-02 03:04:05', 1, '7.00'],
  [8, 'x', 'a', 2008, '2024-01-02 03:04:05', 8, '1.01'],
];

function writeDump(schema: string): string {
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(
    path.join(source, `${schema}.loadable-schema.sql`),
    'CREATE TABLE `loadable` (id INT PRIMARY KEY, s VARCHAR(100) NOT NULL, t TEXT, vb VARBINARY(20) NOT NULL, c CHAR(5) NOT NULL, bn BINARY(3) NOT NULL, ' +
      'i INT NOT NULL, bi BIGINT UNSIGNED NOT NULL, d DECIMAL(10,2) NOT NULL, f FLOAT NOT NULL, dbl DOUBLE NOT NULL, dt DATETIME(3) NOT NULL, ' +
      "dy DATE NOT NULL, tm TIME NOT NULL, e ENUM('a','b','c') NOT NULL, st SET('x','y') NOT NULL) DEFAULT CHARSET=utf8mb4;\n",
  );
  const rows = loadableRows();
  fs.writeFileSync(path.join(source, `${schema}.loadable.000000000.sql`), `INSERT INTO \`loadable\` VALUES\n${rows.slice(0, 120).join(',\n')};\n`);
  fs.writeFileSync(path.join(source, `${schema}.loadable.000000001.sql`), `INSERT INTO \`loadable\` VALUES\n${rows.slice(120).join(',\n')};\n`);
  fs.writeFileSync(
    path.join(source, `${schema}.fallback-schema.sql`),
    "CREATE TABLE `fallback` (id INT PRIMARY KEY, s VARCHAR(20) NOT NULL, e ENUM('a','b','c') NOT NULL, y YEAR NOT NULL, dt DATETIME NOT NULL, i INT NOT NULL, d DECIMAL(10,2) NOT NULL);\n",
  );
  fallbackRows.forEach((row, file) => fs.writeFileSync(path.join(source, `${schema}.fallback.00000000${file}.sql`), `INSERT INTO \`fallback\` VALUES ${row};\n`));
  return source;
}

/** The server's counts of LOAD DATA statements and of rollbacks. */
async function statementCounts(): Promise<{ loads: number; rollbacks: number }> {
  const [rows] = await scratch.db.query<RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_load', 'Com_rollback')");
  const value = (name: string) => Number(rows.find((row) => row.Variable_name === name)!.Value);
  return { loads: value('Com_load'), rollbacks: value('Com_rollback') };
}

async function importWith(
  method: 'insert' | 'load-data',
  dump: (schema: string) => string = writeDump,
): Promise<{ schema: string; outcome: DirectImportOutcome; loads: number; rollbacks: number }> {
  const schema = uniqueName(`tempest_ld_${method.replace('-', '')}`);
  databases.push(schema, `${schema}_info`);
  const config = writeDirectConfig(path.join(dir, `${schema}-config`), {
    sourceDir: dump(schema),
    taskInfoSchema: `${schema}_info`,
    importer: `logical-import-method = "${method}"\nlogical-import-batch-rows = 50\non-duplicate = "error"`,
  });
  const before = await statementCounts();
  const outcome = await importConfigDirectly(config);
  const after = await statementCounts();
  return { schema, outcome, loads: after.loads - before.loads, rollbacks: after.rollbacks - before.rollbacks };
}

test('LOAD DATA batches store exactly what INSERT batches store, and rows LOAD DATA would read otherwise go as INSERTs', async () => {
  const inserted = await importWith('insert');
  const loaded = await importWith('load-data');
  assert.equal(inserted.loads, 0, 'method "insert" sends no LOAD DATA');
  // 200 loadable rows in batches of 50 (files of 120 and 80 rows): 5 loads; then the TRUE row's and the rounded one's.
  assert.equal(loaded.loads, 7, 'method "load-data" sent the batches it can as LOAD DATA');
  // Only the rounded row's load was undone: tabs, newlines, backslashes and NULs went through as they are.
  assert.equal(loaded.rollbacks, 1, 'one LOAD DATA rolled back');
  for (const { outcome } of [inserted, loaded]) {
    // The fallback table's odd literals have no predictable stored form: it is compared by row count.
    const loadable = outcome.tables.find((table) => table.key.endsWith('`loadable`'))!;
    assert.equal(loadable.verify.status, 'checksummed', `${loadable.key}: ${loadable.verify.note ?? ''}`);
  }
  for (const table of ['loadable', 'fallback']) {
    assert.deepEqual(await sortedRows(scratch.db, loaded.schema, table), await sortedRows(scratch.db, inserted.schema, table), `${table}: same rows both ways`);
  }
  assert.deepEqual(await sortedRows(scratch.db, loaded.schema, 'fallback'), fallbackExpected);
});

/** One file whose statements name their columns differently: in the table's order, in another, or some of them. */
function writeMixedColumnsDump(schema: string): string {
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}.mixed-schema.sql`), "CREATE TABLE `mixed` (id INT PRIMARY KEY, s VARCHAR(10) NOT NULL DEFAULT 'dflt', n INT);\n");
  fs.writeFileSync(
    path.join(source, `${schema}.mixed.000000000.sql`),
    "INSERT INTO `mixed` VALUES (1,'a\\tb',10),(2,'b',NULL);\n" +
      'INSERT INTO `mixed` (`n`,`id`) VALUES (30,3),(40,4);\n' +
      "INSERT INTO `mixed` (`s`,`id`,`n`) VALUES ('e',5,50);\n" +
      "INSERT INTO `mixed` VALUES (6,'f',60);\n",
  );
  return source;
}

test('statements with other column lists in one file: each batch keeps to one list, and the rows are those the INSERTs store', async () => {
  const inserted = await importWith('insert', writeMixedColumnsDump);
  const loaded = await importWith('load-data', writeMixedColumnsDump);
  // A batch ends where the column list changes: four lists in a row, four loads.
  assert.equal(loaded.loads, 4);
  assert.equal(loaded.rollbacks, 0);
  const expected = [
    [1, 'a\tb', 10],
    [2, 'b', null],
    [3, 'dflt', 30],
    [4, 'dflt', 40],
    [5, 'e', 50],
    [6, 'f', 60],
  ];
  assert.deepEqual(await sortedRows(scratch.db, loaded.schema, 'mixed'), expected);
  assert.deepEqual(await sortedRows(scratch.db, inserted.schema, 'mixed'), expected);
  // Rows that leave a column to its default have no checksum to compare: the count still is.
  for (const { outcome } of [inserted, loaded]) assert.equal(outcome.tables[0].verify.sourceRows, 6);
});

/**
 * Strings written with every SQL escape: most (\' \" \0 \b \n \r \t \Z \\ and any other \x) read the same
 * in a LOAD DATA field and go into it as they are written; the rest (\% \_ \N, a doubled quote, a raw
 * tab or newline beside an escape) are rewritten. Each with the bytes it stores, in hex.
 */
const escapedStrings: Array<[string, string]> = [
  ["'a\\'b\\\"c'", Buffer.from('a\'b"c').toString('hex')],
  ["'\\0\\b\\n\\r\\t\\Z\\\\'", '00080a0d091a5c'],
  ["'\\q\\é\\ '", Buffer.from('qé ').toString('hex')],
  ["'\\\\N'", Buffer.from('\\N').toString('hex')],
  ['"say \\"hi\\" \'x\'"', Buffer.from('say "hi" \'x\'').toString('hex')],
  ["'\\%\\_'", Buffer.from('\\%\\_').toString('hex')],
  ["'\\N'", Buffer.from('N').toString('hex')],
  ["'it''s'", Buffer.from("it's").toString('hex')],
  ["'raw\ttab\\'s'", Buffer.from("raw\ttab's").toString('hex')],
  ["'\\n\n'", '0a0a'],
  ["''", ''],
];

function writeEscapesDump(schema: string): string {
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}.escapes-schema.sql`), 'CREATE TABLE `escapes` (id INT PRIMARY KEY, s VARBINARY(50) NOT NULL, t TEXT);\n');
  const rows = escapedStrings.map(([literal], index) => `(${index + 1},${literal},${literal})`);
  fs.writeFileSync(path.join(source, `${schema}.escapes.000000000.sql`), `INSERT INTO \`escapes\` VALUES\n${rows.join(',\n')};\n`);
  return source;
}

test('strings with every SQL escape: LOAD DATA stores the bytes the INSERT does, and the checksums agree', async () => {
  const inserted = await importWith('insert', writeEscapesDump);
  const loaded = await importWith('load-data', writeEscapesDump);
  assert.equal(loaded.loads, 1);
  assert.equal(loaded.rollbacks, 0);
  for (const { schema, outcome } of [inserted, loaded]) {
    assert.equal(outcome.tables[0].verify.status, 'checksummed', outcome.tables[0].verify.note ?? '');
    const [rows] = await scratch.db.query<RowDataPacket[]>(`SELECT HEX(s) AS s, HEX(t) AS t FROM \`${schema}\`.escapes ORDER BY id`);
    assert.deepEqual(
      rows.map((row) => [row.s, row.t]),
      escapedStrings.map(([, hex]) => [hex.toUpperCase(), hex.toUpperCase()]),
      schema,
    );
  }
});

test('with LOAD DATA, a duplicate key still fails the table when on-duplicate is "error", and nothing of the batch is kept', async () => {
  const schema = uniqueName('tempest_ld_dup');
  databases.push(schema, `${schema}_info`);
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}.t-schema.sql`), 'CREATE TABLE `t` (id INT PRIMARY KEY, v VARCHAR(10) NOT NULL);\n');
  fs.writeFileSync(path.join(source, `${schema}.t.000000000.sql`), "INSERT INTO `t` VALUES (1,'a'),(2,'b');\nINSERT INTO `t` VALUES (3,'c'),(2,'again');\n");
  const config = writeDirectConfig(path.join(dir, `${schema}-config`), {
    sourceDir: source,
    taskInfoSchema: `${schema}_info`,
    importer: 'logical-import-method = "load-data"\nlogical-import-batch-rows = 2\non-duplicate = "error"',
  });
  await assert.rejects(importConfigDirectly(config), /the target rejected a row between byte offsets 38 and 82: Duplicate entry .* for key 'PRIMARY'/);
  assert.deepEqual(await sortedRows(scratch.db, schema, 't'), [[1, 'a'], [2, 'b']], 'the first batch stays; the failed one left nothing');
});

test('a server that refuses LOCAL files gets the same rows as INSERTs', async () => {
  const [before] = await scratch.db.query<RowDataPacket[]>('SELECT @@GLOBAL.local_infile AS value');
  await scratch.db.query('SET GLOBAL local_infile = 0');
  try {
    const refused = await importWith('load-data');
    const table = refused.outcome.tables.find((outcome) => outcome.key.endsWith('`loadable`'))!;
    assert.equal(table.rows, 200);
    assert.equal(table.verify.status, 'checksummed', table.verify.note ?? '');
    assert.equal((await sortedRows(scratch.db, refused.schema, 'loadable')).length, 200);
    assert.deepEqual(await sortedRows(scratch.db, refused.schema, 'fallback'), fallbackExpected);
  } finally {
    await scratch.db.query(`SET GLOBAL local_infile = ${Number(before[0].value)}`);
  }
});
