import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { planChunks } from '../../activities/source/plan-chunks';
import { planSource } from '../../activities/source/plan-source';
import type { ChunkPlan } from '../../activities/task-types';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { engineSummaryQuery, tableSummaryQuery } from '../../workflows/definitions';
import { seededRandom } from '../helpers/dump-fixture';
import { importConfigDirectly, settingsOfConfig, writeDirectConfig } from '../helpers/direct-import';
import { importOutcome, makeTempDir, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * `[mydumper] strict-format = true` with a small `max-region-size`: one large uncompressed CSV file
 * is cut into several chunks at row boundaries (activities/source/plan-chunks.ts), the chunks import
 * at the same time, and every row lands exactly once (the tables have no key: a row written twice
 * or lost would show).
 */

let env: TestWorkflowEnvironment;
let db: Connection;
const schema = uniqueName('tempest_split');
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-split');
const columns = 'id INT NOT NULL, name VARCHAR(60) NOT NULL, amount DECIMAL(10,2) NULL, note VARCHAR(200) NULL';

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
});

after(async () => {
  await dropDatabases(db, [schema, taskInfo]);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

type Row = [number, string, string | null, string | null];

/** Rows of varied lengths (so cuts land anywhere in a line), some with separators and quotes inside quoted fields. */
function makeRows(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i): Row => {
    const name = `n${i}-${'x'.repeat(Math.floor(random() * 40))}`;
    const amount = random() < 0.1 ? null : `${Math.floor(random() * 2_000_000) - 1_000_000}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
    const note = random() < 0.2 ? null : `say "hi", ${'y'.repeat(Math.floor(random() * 60))}`;
    return [i + 1, name, amount, note];
  });
}

/** The CSV text of `rows` under `header` (in the given column order) with line terminator `eol`. */
function csvText(rows: Row[], eol: string, header: Array<'id' | 'name' | 'amount' | 'note'> | undefined): string {
  const order = header ?? ['id', 'name', 'amount', 'note'];
  const field = (row: Row, column: string) => {
    const value = row[['id', 'name', 'amount', 'note'].indexOf(column)];
    if (value === null) return '\\N';
    return typeof value === 'number' ? String(value) : `"${value.replace(/"/g, '""')}"`;
  };
  const lines = rows.map((row) => order.map((column) => field(row, column)).join(','));
  return (header ? [header.join(','), ...lines] : lines).join(eol) + eol;
}

function writeDump(name: string, table: string, text: string): string {
  const source = path.join(dir, name);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}-schema-create.sql`), `CREATE DATABASE \`${schema}\`;\n`);
  fs.writeFileSync(path.join(source, `${schema}.${table}-schema.sql`), `CREATE TABLE \`${table}\` (${columns});\n`);
  fs.writeFileSync(path.join(source, `${schema}.${table}.000000001.csv`), text);
  return source;
}

/** The chunks cover the file end to end, each cut just after a whole line terminator. */
function assertCutAtRows(chunks: ChunkPlan[], file: Buffer, eol: string): void {
  assert.ok(chunks.length >= 4, `the file is cut into several chunks (${chunks.length})`);
  assert.equal(chunks[0].offset, 0);
  assert.equal(chunks[chunks.length - 1].endOffset, file.length);
  for (let i = 1; i < chunks.length; i++) {
    assert.equal(chunks[i].offset, chunks[i - 1].endOffset, 'chunks are contiguous');
    assert.equal(file.subarray(chunks[i].offset - eol.length, chunks[i].offset).toString('latin1'), eol, `chunk ${i} starts just after a line terminator`);
    assert.notEqual(file[chunks[i].offset], 0x0a, `chunk ${i} does not start inside a line terminator`);
  }
}

async function expectRows(table: string, rows: Row[]): Promise<void> {
  const expected = rows.map(([id, name, amount, note]) => [id, name, amount, note]);
  assert.deepEqual(await sortedRows(db, schema, table), expected, `${table}: every row once, every value`);
}

test('through the workflow: a large CSV is cut into several chunks that import at the same time, every row once', async () => {
  // More than 8 MiB: a large table, imported by a table workflow whose engine runs its chunks in
  // groups of 4 MiB, region-concurrency of them at once (a small table's chunks go one after the other).
  const rows = makeRows(120_000, 5);
  const text = csvText(rows, '\n', ['id', 'name', 'amount', 'note']);
  assert.ok(text.length > 9 * 1024 * 1024, `the file is large (${text.length} bytes)`);
  const source = writeDump('lf', 'split_lf', text);
  const config = writeConfig(path.join(dir, 'lf-config'), {
    sourceDir: source,
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    mydumper: 'strict-format = true\nmax-region-size = 400003',
    // Small batches: each chunk commits many times, so chunks running together are seen doing so.
    importer: 'logical-import-batch-rows = 100',
  });
  const settings = settingsOfConfig(config);
  const [table] = (await planSource(settings)).tables;
  const cut = await planChunks(settings, table.dataFiles);
  assertCutAtRows(cut, Buffer.from(text), '\n');

  // Chunks in the middle of their rows at the same instant: committed some batches, not finished.
  let mostAtOnce = 0;
  let importing = true;
  const watching = (async () => {
    while (importing) {
      const [inFlight] = await db
        .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${taskInfo}\`.tempest_chunk_v1 WHERE finished = 0 AND pos > \`offset\``)
        .catch(() => [[{ n: 0 }]] as unknown as [RowDataPacket[]]);
      mostAtOnce = Math.max(mostAtOnce, Number(inFlight[0].n));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const { result, imported, engines } = await withWorker(env.nativeConnection, env.address, config, async () => {
    const handle = await startImport(env.client, config);
    try {
      const result = await importOutcome(handle, config);
      // The table's and its engines' workflows (closed, still answering queries): what they imported.
      const tableWorkflow = env.client.workflow.getHandle(`${handle.workflowId}/${result.tables[0].key}`);
      const imported = await tableWorkflow.query(tableSummaryQuery);
      const engines = await Promise.all(
        Array.from({ length: imported.engines }, (_, engineId) => env.client.workflow.getHandle(`${tableWorkflow.workflowId}/engine-${engineId}`).query(engineSummaryQuery)),
      );
      return { result, imported, engines };
    } finally {
      importing = false;
    }
  });
  await watching;

  assert.ok(imported.chunks >= 4 && imported.chunks === cut.length, `the table workflow imported the chunks cut (${imported.chunks} of ${cut.length})`);
  assert.equal(imported.enginesDone, imported.engines);
  assert.equal(engines.reduce((sum, engine) => sum + engine.chunksDone, 0), cut.length, 'every chunk finished');
  assert.ok(engines.some((engine) => engine.groups > 1), 'an engine ran its chunks in several groups');
  assert.equal(imported.doneBytes, text.length, 'the finished chunks span the whole file');
  assert.equal(imported.rows, rows.length, 'the chunks read each row once');
  assert.equal(mostAtOnce, 2, 'two chunks (region-concurrency) were importing at the same time');
  const outcome = result.tables[0];
  assert.equal(outcome.status, CheckpointStatus.analyzed, JSON.stringify(outcome));
  assert.equal(outcome.verify?.status, 'checksummed', outcome.verify?.note);
  assert.equal(outcome.rows, rows.length);
  await expectRows('split_lf', rows);
});

for (const { name, terminator } of [
  { name: 'split_crlf_auto', terminator: '' },
  { name: 'split_crlf', terminator: '\\r\\n' },
]) {
  test(`CRLF lines and a header in another column order (terminator = "${terminator}"): cut between rows, every row once`, async () => {
    const rows = makeRows(12_000, name.length);
    const text = csvText(rows, '\r\n', ['note', 'id', 'amount', 'name']);
    const source = writeDump(name, name, text);
    const config = writeDirectConfig(path.join(dir, `${name}-config`), {
      sourceDir: source,
      taskInfoSchema: taskInfo,
      mydumper: 'strict-format = true\nmax-region-size = 100001',
      importer: 'logical-import-batch-rows = 500',
      extra: `[mydumper.csv]\nterminator = "${terminator}"\n`,
    });
    const [table] = (await importConfigDirectly(config)).tables;
    assertCutAtRows(table.chunks, Buffer.from(text), '\r\n');
    assert.ok(table.chunks.slice(1).every((chunk) => chunk.columns?.join() === 'note,id,amount,name'), 'chunks after the first carry the header names');
    assert.equal(table.rows, rows.length);
    assert.equal(table.verify.status, 'checksummed', table.verify.note);
    await expectRows(name, rows);
  });
}
