import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import type { ChunkHeartbeat } from '../../activities/task-types';
import { importDirectly, poolOfConfig, settingsOfConfig, writeDirectConfig } from '../helpers/direct-import';
import { makeTempDir } from '../helpers/import-harness';
import { adminConnection, dropDatabases, uniqueName } from '../helpers/target-db';

/**
 * Live progress is read from chunk heartbeats: what one names must be in the target already. Rows
 * of a fixed width make the bytes before any row boundary a multiple of that width.
 */

let db: Connection;
const schema = uniqueName('tempest_beat');
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-beat');
const ROW_BYTES = 16;
const ROWS = 5000;
const MANY_ROWS = 60000;

before(async () => {
  db = await adminConnection();
});

after(async () => {
  await dropDatabases(db, [schema, taskInfo]);
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `id,text\n` padded so every line is ROW_BYTES long. */
function fixedWidthCsv(rows = ROWS): string {
  let csv = '';
  for (let id = 1; id <= rows; id++) {
    const line = `${id},${'x'.repeat(ROW_BYTES - String(id).length - 2)}\n`;
    assert.equal(line.length, ROW_BYTES);
    csv += line;
  }
  return csv;
}

async function heartbeatsOfImport(source: string, table: string, rows = ROWS, importer = 'logical-import-batch-rows = 700'): Promise<ChunkHeartbeat[]> {
  const configPath = writeDirectConfig(path.join(dir, table), {
    sourceDir: source,
    taskInfoSchema: taskInfo,
    importer,
    mydumper: 'no-schema = false\nread-block-size = 4096\n[mydumper.csv]\nheader = false',
  });
  const beats: ChunkHeartbeat[] = [];
  const pool = poolOfConfig(configPath);
  try {
    const outcome = await importDirectly(pool, settingsOfConfig(configPath), { heartbeat: (beat) => beats.push(beat) });
    assert.equal(outcome.tables[0].rows, rows);
  } finally {
    await pool.end();
  }
  return beats;
}

function writeSource(name: string, table: string, data: Buffer | string): string {
  const source = path.join(dir, name);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}-schema-create.sql`), `CREATE DATABASE \`${schema}\`;`);
  fs.writeFileSync(path.join(source, `${schema}.${table}-schema.sql`), `CREATE TABLE \`${table}\` (id INT PRIMARY KEY, txt VARCHAR(20));`);
  fs.writeFileSync(path.join(source, `${schema}.${table}.000000000.csv${Buffer.isBuffer(data) ? '.gz' : ''}`), data);
  return source;
}

test('a chunk heartbeats only committed progress: its rows and its bytes on disk end at the same committed row', async () => {
  const beats = await heartbeatsOfImport(writeSource('plain', 'plain', fixedWidthCsv()), 'plain');
  assert.ok(beats.length >= ROWS / 700, `a heartbeat per batch (${beats.length})`);
  for (const beat of beats) {
    assert.equal(beat.diskBytes, beat.rows * ROW_BYTES, `the bytes of ${beat.rows} rows`);
    assert.equal(beat.pos, beat.diskBytes, 'bytes done are those before the committed position');
    assert.ok(beat.rows % 700 === 0 || beat.rows === ROWS, `${beat.rows} rows: whole batches only`);
  }
  for (let i = 1; i < beats.length; i++) assert.ok(beats[i].rows >= beats[i - 1].rows, 'rows never go back');
  assert.deepEqual(beats.at(-1), { ...beats.at(-1)!, rows: ROWS, diskBytes: ROWS * ROW_BYTES });
});

test('a compressed chunk heartbeats committed rows and the compressed bytes read, up to the whole file', async () => {
  const gzipped = zlib.gzipSync(fixedWidthCsv());
  const beats = await heartbeatsOfImport(writeSource('gzip', 'packed', gzipped), 'packed');
  for (const beat of beats) {
    assert.ok(beat.rows % 700 === 0 || beat.rows === ROWS, `${beat.rows} rows: whole batches only`);
    assert.equal(beat.pos, beat.rows * ROW_BYTES, 'the position is in the uncompressed stream');
    assert.ok(beat.diskBytes <= gzipped.length, `${beat.diskBytes} bytes read of ${gzipped.length}`);
  }
  assert.equal(beats.at(-1)!.rows, ROWS);
  assert.equal(beats.at(-1)!.diskBytes, gzipped.length);
});

test('a chunk starts with a small batch, and each next one is twice as large up to the batch size', async () => {
  const beats = await heartbeatsOfImport(writeSource('ramp', 'ramp', fixedWidthCsv(MANY_ROWS)), 'ramp', MANY_ROWS, '');
  const batches = beats.map((beat, i) => beat.rows - (i > 0 ? beats[i - 1].rows : 0)).filter((rows) => rows > 0);
  assert.ok(batches.length >= 4, `batches of ${batches.join(', ')} rows`);
  // The first batch holds about 64 KiB of rows as sent (a little more than as read here).
  assert.ok(batches[0] * ROW_BYTES > 32 * 1024 && batches[0] * ROW_BYTES <= 64 * 1024, `a first batch of ${batches[0]} rows`);
  for (let i = 1; i < batches.length - 1; i++) {
    assert.ok(Math.abs(batches[i] - 2 * batches[i - 1]) <= 2, `batch ${i + 1} of ${batches[i]} rows, after one of ${batches[i - 1]}`);
  }
});
