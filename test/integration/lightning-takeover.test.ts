import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Long from 'long';
import protobuf from 'protobufjs';
import { importOutcome, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { sortedRows, testScratch, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * What a Lightning run (logical mode) killed with -9 leaves behind, built by hand so each case is
 * exact: its file checkpoint names chunks relative to a `file://` source, and the target holds rows
 * past the positions the checkpoint saved (Lightning commits rows before it saves the position).
 */

const protoFile = path.resolve(__dirname, '../../../proto/checkpoints.proto');
const scratch = testScratch('tempest-lightning-takeover');
let env: TestWorkflowEnvironment;
const dir = scratch.dir;

before(async () => {
  env = await startTemporal();
});

after(async () => {
  await env?.teardown();
});

interface DataFile {
  table: string;
  name: string;
  rows: [number, string][];
  /** Where each row ends (just past its closing parenthesis). */
  rowEnds: number[];
  size: number;
}

/** A Dumpling-style SQL file, ten rows per INSERT. */
function writeDataFile(source: string, schema: string, table: string, seq: number, rows: [number, string][]): DataFile {
  let text = '/*!40101 SET NAMES binary*/;\n';
  const rowEnds: number[] = [];
  for (let i = 0; i < rows.length; i += 10) {
    text += `INSERT INTO \`${table}\` VALUES\n`;
    rows.slice(i, i + 10).forEach(([id, value], j, group) => {
      text += `(${id},'${value}')`;
      rowEnds.push(Buffer.byteLength(text));
      text += j === group.length - 1 ? ';\n' : ',\n';
    });
  }
  const name = `${schema}.${table}.${String(seq).padStart(9, '0')}.sql`;
  fs.writeFileSync(path.join(source, name), text);
  return { table, name, rows, rowEnds, size: Buffer.byteLength(text) };
}

function rowsOf(from: number, count: number, repeat = false): [number, string][] {
  // Keyless rows repeat, as real keyless data does: only their count tells them apart.
  return Array.from({ length: count }, (_, i) => [repeat ? (from + i) % 7 : from + i, `v${(from + i) % 13}`]);
}

interface ChunkState {
  file: DataFile;
  /** Rows covered by the position Lightning saved. */
  saved: number;
  /** Rows actually committed in the target (at least `saved`). */
  committed: number;
}

function lightningCheckpoint(source: string, schema: string, chunks: ChunkState[]): Uint8Array {
  const type = protobuf.loadSync(protoFile).lookupType('tempest.checkpoints.CheckpointsModel');
  const checkpoints: Record<string, { status: number; engines: Record<number, { status: number; chunks: Record<string, unknown> }> }> = {};
  for (const { file, saved } of chunks) {
    const table = (checkpoints[`\`${schema}\`.\`${file.table}\``] ??= { status: 30, engines: { 0: { status: 30, chunks: {} } } });
    table.engines[0].chunks[`${file.name}:0`] = {
      path: file.name,
      offset: Long.fromNumber(0),
      endOffset: Long.fromNumber(file.size),
      pos: Long.fromNumber(saved === 0 ? 0 : saved === file.rows.length ? file.size : file.rowEnds[saved - 1]),
      prevRowidMax: Long.fromNumber(saved),
      rowidMax: Long.fromNumber(file.rows.length),
      kvcKvs: Long.fromNumber(saved, true),
      type: 3,
      fileSize: Long.fromNumber(file.size),
    };
  }
  return type
    .encode(
      type.fromObject({
        checkpoints,
        taskCheckpoint: { taskId: Long.fromString('1764000000000000000'), sourceDir: pathToFileURL(source).href, backend: 'tidb', tidbHost: '127.0.0.1', tidbPort: 4000, lightningVer: 'v8.5.0' },
      }),
    )
    .finish();
}

async function prepareTarget(schema: string, chunks: ChunkState[]): Promise<void> {
  await scratch.db.query(`CREATE DATABASE \`${schema}\``);
  await scratch.db.query(`CREATE TABLE \`${schema}\`.keyed (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)`);
  await scratch.db.query(`CREATE TABLE \`${schema}\`.keyless (id INT NOT NULL, v VARCHAR(20) NOT NULL)`);
  for (const { file, committed } of chunks) {
    if (committed > 0) await scratch.db.query(`INSERT INTO \`${schema}\`.\`${file.table}\` (id, v) VALUES ?`, [file.rows.slice(0, committed)]);
  }
}

function writeSchemaFiles(source: string, schema: string): void {
  fs.writeFileSync(path.join(source, `${schema}-schema-create.sql`), `CREATE DATABASE \`${schema}\`;\n`);
  fs.writeFileSync(path.join(source, `${schema}.keyed-schema.sql`), 'CREATE TABLE `keyed` (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);\n');
  fs.writeFileSync(path.join(source, `${schema}.keyless-schema.sql`), 'CREATE TABLE `keyless` (id INT NOT NULL, v VARCHAR(20) NOT NULL);\n');
}

function configFor(schema: string, source: string, checkpoint: Uint8Array): string {
  const configDir = path.join(dir, `${schema}-config`);
  const config = writeConfig(configDir, {
    sourceDir: source,
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: `${schema}_info`,
    // As the user had it: a row sent twice is an error, not silently merged.
    importer: 'on-duplicate = "error"\nlogical-import-batch-rows = 8',
  });
  fs.writeFileSync(path.join(configDir, 'tidb_lightning_checkpoint.pb'), checkpoint);
  return config;
}

test('a killed Lightning run is taken over from its file checkpoint: relative paths, and rows committed past the saved positions neither lost nor written twice', async () => {
  const schema = uniqueName('tempest_lt');
  scratch.databases.push(schema, `${schema}_info`);
  const source = path.join(dir, schema);
  fs.mkdirSync(source);
  writeSchemaFiles(source, schema);
  const chunks: ChunkState[] = [
    // Finished.
    { file: writeDataFile(source, schema, 'keyed', 1, rowsOf(1, 100)), saved: 100, committed: 100 },
    // In flight: 27 rows past the saved position are in.
    { file: writeDataFile(source, schema, 'keyed', 2, rowsOf(101, 100)), saved: 30, committed: 57 },
    // In flight, no position saved yet, 15 rows in.
    { file: writeDataFile(source, schema, 'keyed', 3, rowsOf(201, 100)), saved: 0, committed: 15 },
    // Not started.
    { file: writeDataFile(source, schema, 'keyed', 4, rowsOf(301, 40)), saved: 0, committed: 0 },
    // Keyless, one file, in flight: 24 rows past the saved position are in.
    { file: writeDataFile(source, schema, 'keyless', 1, rowsOf(1, 100, true)), saved: 40, committed: 64 },
  ];
  await prepareTarget(schema, chunks);
  const config = configFor(schema, source, lightningCheckpoint(source, schema, chunks));

  const handle = await startImport(env.client, config);
  const result = await withWorker(env.nativeConnection, env.address, config, () => importOutcome(handle, config));

  const expected = (table: string) =>
    chunks
      .filter((chunk) => chunk.file.table === table)
      .flatMap((chunk) => chunk.file.rows)
      .map(([id, v]) => [id, v])
      .sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1])));
  const actual = async (table: string) => (await sortedRows(scratch.db, schema, table)).sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1])));
  assert.deepEqual(await actual('keyed'), expected('keyed'), 'keyed: every row, once');
  assert.deepEqual(await actual('keyless'), expected('keyless'), 'keyless: every row, as many times as in the source');

  const byKey = (name: string) => result.tables.find((table) => table.key === `\`${schema}\`.\`${name}\``)!;
  assert.equal(byKey('keyed').verify?.targetRows, 340);
  assert.match(byKey('keyed').verify?.note ?? '', /42 rows that Lightning had written past the positions it saved were found in the target/);
  assert.equal(byKey('keyless').verify?.targetRows, 100);
  assert.match(byKey('keyless').verify?.note ?? '', /24 rows that Lightning had written past/);
});

test('a keyless table whose extra rows could be in any of several unfinished chunks stops the take-over and says why', async () => {
  const schema = uniqueName('tempest_lt');
  scratch.databases.push(schema, `${schema}_info`);
  const source = path.join(dir, schema);
  fs.mkdirSync(source);
  writeSchemaFiles(source, schema);
  const chunks: ChunkState[] = [
    { file: writeDataFile(source, schema, 'keyless', 1, rowsOf(1, 50, true)), saved: 20, committed: 25 },
    { file: writeDataFile(source, schema, 'keyless', 2, rowsOf(51, 50, true)), saved: 10, committed: 10 },
  ];
  await prepareTarget(schema, chunks);
  const config = configFor(schema, source, lightningCheckpoint(source, schema, chunks));
  const handle = await startImport(env.client, config);
  const failure = await withWorker(env.nativeConnection, env.address, config, () => handle.result().then(() => assert.fail('the take-over should stop'), (error: Error) => error));
  const message = String((failure as { cause?: { cause?: Error } }).cause?.cause?.message ?? failure.message);
  assert.match(message, /keyless` has no primary or unique key, and the target holds 5 rows past the positions the checkpoint saved, which any of its 2 unfinished chunks/);
  assert.match(message, /--checkpoint-remove=/);
  assert.equal((await sortedRows(scratch.db, schema, 'keyless')).length, 35, 'nothing was written');
});
