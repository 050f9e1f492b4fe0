import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Connection, Pool } from 'mysql2/promise';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { importDirectly, poolOfConfig, settingsOfConfig } from '../helpers/direct-import';
import { importOutcome, makeTempDir, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * One small CSV file per `[mydumper.csv]` option (LIGHTNING-COMPAT.md §2), imported into MariaDB
 * and compared value by value with what the option says the file holds. Most go through the
 * activities directly (fast); the last goes through the real workflow with several options at once.
 */

let db: Connection;
let pool: Pool;
const schema = uniqueName('tempest_csv');
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-csv');
const table3 = 'id INT NOT NULL PRIMARY KEY, a VARCHAR(60) NULL, b VARCHAR(60) NULL';

before(async () => {
  db = await adminConnection();
  pool = poolOfConfig(configFor('pool', ''));
});

after(async () => {
  await dropDatabases(db, [schema, taskInfo]);
  await pool.end();
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A dump of one table `name` holding one CSV file, and its config with `csvToml` under [mydumper.csv]. */
function csvCase(name: string, columns: string, csv: string, csvToml: string, temporalAddress = '127.0.0.1:1'): string {
  const source = path.join(dir, name, 'dump');
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}-schema-create.sql`), `CREATE DATABASE \`${schema}\`;\n`);
  fs.writeFileSync(path.join(source, `${schema}.${name}-schema.sql`), `CREATE TABLE \`${name}\` (${columns}) DEFAULT CHARSET=utf8mb4;\n`);
  fs.writeFileSync(path.join(source, `${schema}.${name}.000000001.csv`), csv);
  return configFor(name, csvToml, temporalAddress);
}

function configFor(name: string, csvToml: string, temporalAddress = '127.0.0.1:1'): string {
  return writeConfig(path.join(dir, name), {
    sourceDir: path.join(dir, name, 'dump'),
    temporalAddress,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    extra: `[mydumper.csv]\n${csvToml}\n`,
  });
}

/** Imports the case and checks the table holds exactly `expected` (sorted by every column), verified by the importer's own checksum. */
async function expectImport(name: string, config: string, expected: unknown[][]): Promise<void> {
  const outcome = await importDirectly(pool, settingsOfConfig(config));
  const table = outcome.tables.find((candidate) => candidate.key === `\`${schema}\`.\`${name}\``);
  assert.ok(table, `${name} was imported`);
  assert.equal(table.rows, expected.length, `${name}: rows read`);
  assert.equal(table.verify.status, 'checksummed', `${name}: ${table.verify.note ?? ''}`);
  assert.deepEqual(await sortedRows(db, schema, name), expected, `${name}: every value`);
}

test('separator of several characters (|+|), with its first character inside fields', async () => {
  const csv = '1|+|x|y|+|"q|+|uoted"\n2|+|a||+|+plus\n3|+||+|\n';
  await expectImport('sep_multi', csvCase('sep_multi', table3, csv, "separator = '|+|'\nheader = false"), [
    [1, 'x|y', 'q|+|uoted'],
    [2, 'a|', '+plus'],
    [3, '', ''],
  ]);
});

test("delimiter = \"'\": single-quoted fields, doubled quotes, separators and line breaks inside", async () => {
  const csv = "1,'it''s','a,b'\n2,'say \"hi\"',plain\n3,'line\nbreak','back\\\\slash'\n";
  await expectImport('delim_single', csvCase('delim_single', table3, csv, `delimiter = "'"\nheader = false`), [
    [1, "it's", 'a,b'],
    [2, 'say "hi"', 'plain'],
    [3, 'line\nbreak', 'back\\slash'],
  ]);
});

test('empty delimiter: quotes are data, a separator is escaped with a backslash', async () => {
  const csv = '1,"quoted",it\'s\n2,a\\,b,""\n';
  await expectImport('delim_empty', csvCase('delim_empty', table3, csv, 'delimiter = ""\nheader = false'), [
    [1, '"quoted"', "it's"],
    [2, 'a,b', '""'],
  ]);
});

test('terminator = "\\r\\n": a bare line feed is data', async () => {
  const csv = '1,line1\nline2,x\r\n2,"q\r\nq",y\r\n3,,\r\n';
  await expectImport('term_crlf', csvCase('term_crlf', table3, csv, 'terminator = "\\r\\n"\nheader = false'), [
    [1, 'line1\nline2', 'x'],
    [2, 'q\r\nq', 'y'],
    [3, '', ''],
  ]);
});

test('custom terminator "$$\\n", with its first character before it and inside fields', async () => {
  const csv = '1,a,b$$\n2,c$,d$$$\n3,"e$$\nf",g$$\n4,h\ni,j$$\n';
  await expectImport('term_custom', csvCase('term_custom', table3, csv, 'terminator = "$$\\n"\nheader = false'), [
    [1, 'a', 'b'],
    [2, 'c$', 'd$'],
    [3, 'e$$\nf', 'g'],
    [4, 'h\ni', 'j'],
  ]);
});

test('header = true skips the first line; header = false imports it as a row', async () => {
  await expectImport('header_on', csvCase('header_on', table3, 'id,a,b\n1,x,y\n', 'header = true'), [[1, 'x', 'y']]);
  await expectImport('header_off', csvCase('header_off', 'id VARCHAR(10) NOT NULL PRIMARY KEY, a VARCHAR(60), b VARCHAR(60)', 'id,a,b\n1,x,y\n', 'header = false'), [
    ['1', 'x', 'y'],
    ['id', 'a', 'b'],
  ]);
});

test('header-schema-match = false: the header is skipped and columns go by position', async () => {
  const csv = 'not,the,names\n1,x,y\n2,,z\n';
  await expectImport('header_nomatch', csvCase('header_nomatch', table3, csv, 'header = true\nheader-schema-match = false'), [
    [1, 'x', 'y'],
    [2, '', 'z'],
  ]);
});

test('header-schema-match = true: a header in another column order than the table maps each value to its column', async () => {
  const csv = 'b,ID,a\ny1,1,x1\ny2,2,x2\n';
  await expectImport('header_reordered', csvCase('header_reordered', table3, csv, 'header = true\nheader-schema-match = true'), [
    [1, 'x1', 'y1'],
    [2, 'x2', 'y2'],
  ]);
});

test('not-null = true: no field is NULL, not even \\N', async () => {
  const columns = 'id INT NOT NULL PRIMARY KEY, a VARCHAR(60) NOT NULL, b VARCHAR(60) NOT NULL';
  const csv = '1,\\N,NULL\n2,,""\n';
  await expectImport('not_null', csvCase('not_null', columns, csv, "header = false\nnot-null = true\nnull = ['\\N', 'NULL', '']"), [
    [1, 'N', 'NULL'],
    [2, '', ''],
  ]);
});

test("null as a list ['\\N', 'NULL', '']: each text is NULL, quoted or not (as Lightning); an escaped backslash is not", async () => {
  const csv = '1,\\N,NULL\n2,,"NULL"\n3,"",\\\\N\n4,null,Null\n5,"\\N",x\n';
  await expectImport('null_list', csvCase('null_list', table3, csv, "header = false\nnull = ['\\N', 'NULL', '']"), [
    [1, null, null],
    [2, null, null],
    [3, null, '\\N'],
    [4, 'null', 'Null'],
    [5, null, 'x'],
  ]);
});

test('backslash-escape = false: backslashes are data, \\N is still NULL', async () => {
  const csv = '1,a\\tb,"c\\\\d"\n2,\\N,"\\N"\n3,x\\,"y\\"\n';
  await expectImport('no_backslash', csvCase('no_backslash', table3, csv, 'header = false\nbackslash-escape = false'), [
    [1, 'a\\tb', 'c\\\\d'],
    [2, null, null],
    [3, 'x\\', 'y\\'],
  ]);
});

test('trim-last-separator = true: a separator ending the line (header and rows) is dropped', async () => {
  const csv = 'id,a,b,\n1,x,y,\n2,,,\n';
  await expectImport('trim_last', csvCase('trim_last', table3, csv, 'header = true\ntrim-last-separator = true'), [
    [1, 'x', 'y'],
    [2, '', ''],
  ]);
});

test("escaped-by = '!': the escape character is !, backslashes are data, !N is NULL when null says so", async () => {
  const csv = '1,a!,b,"q!"uote"\n2,back\\slash,x!ty\n3,!N,"!N"\n4,!!,"!!"\n';
  await expectImport('escaped_by', csvCase('escaped_by', table3, csv, "header = false\nescaped-by = '!'\nnull = '!N'"), [
    [1, 'a,b', 'q"uote'],
    [2, 'back\\slash', 'x\ty'],
    [3, null, null],
    [4, '!', '!'],
  ]);
});

test('quoted fields spanning lines (LF and CRLF inside), with doubled quotes', async () => {
  const csv = 'id,a,b\n1,"line one\nline two\r\nline three",x\n2,"a ""quoted"" word",y\r\n3,"\n",""\n';
  await expectImport('multiline', csvCase('multiline', table3, csv, ''), [
    [1, 'line one\nline two\r\nline three', 'x'],
    [2, 'a "quoted" word', 'y'],
    [3, '\n', ''],
  ]);
});

test('through the real workflow: |+| separator, single-quote delimiter, CRLF terminator, reordered header, NULL list', async () => {
  const env = await startTemporal();
  try {
    const csv = "b|+|a|+|id\r\n'first\r\nline'|+|NULL|+|1\r\n|+|'it''s'|+|2\r\n'|+|'|+|\\N|+|3\r\n";
    const config = csvCase('workflow', table3, csv, "separator = '|+|'\ndelimiter = \"'\"\nterminator = \"\\r\\n\"\nnull = ['\\N', 'NULL', '']", env.address);
    const result = await withWorker(env.nativeConnection, env.address, config, async () => importOutcome(await startImport(env.client, config), config));
    const outcome = result.tables.find((table) => table.key === `\`${schema}\`.\`workflow\``);
    assert.ok(outcome, 'the table was imported');
    assert.equal(outcome.status, CheckpointStatus.analyzed, JSON.stringify(outcome));
    assert.equal(outcome.verify?.status, 'checksummed', outcome.verify?.note);
    assert.deepEqual(await sortedRows(db, schema, 'workflow'), [
      [1, null, 'first\r\nline'],
      [2, "it's", null],
      [3, null, '|+|'],
    ]);
  } finally {
    await env.teardown();
  }
});

test('a header chunk resumed past its header still maps values by the header (header in another order than the table)', async () => {
  const rows = Array.from({ length: 300 }, (_, i) => [i + 1, `a${i}`, `b${i}`] as const);
  const csv = `b,a,id\n${rows.map(([id, a, b]) => `${b},${a},${id}`).join('\n')}\n`;
  const config = csvCase('resumed_header', table3, csv, 'header = true');
  const settings = { ...settingsOfConfig(config), batchRows: 20, readBlockSize: 256 };
  // The first attempt stops after its first committed batch, as a killed worker would.
  const stopped = new AbortController();
  const first = await importDirectly(pool, settings, {
    signal: stopped.signal,
    heartbeat: (details) => {
      if (details.rows > 0) stopped.abort(new Error('worker stopped'));
    },
  }).catch((error: Error) => error);
  assert.ok(first instanceof Error && first.message === 'worker stopped', `the first attempt stopped: ${String(first)}`);
  // The batch on its way when the attempt stopped still commits: wait for it, as a retry would find it.
  let committed = 0;
  for (let wait = 0; committed === 0 && wait < 50; wait++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [count] = await db.query(`SELECT COUNT(*) AS n FROM \`${schema}\`.resumed_header`);
    committed = Number((count as Array<{ n: number }>)[0].n);
  }
  assert.ok(committed > 0 && committed < rows.length, `the first attempt committed part of the file (${committed} rows)`);

  const outcome = await importDirectly(pool, settings);
  assert.equal(outcome.tables[0].verify.status, 'checksummed', outcome.tables[0].verify.note);
  assert.deepEqual(await sortedRows(db, schema, 'resumed_header'), rows.map((row) => [...row]));
});
