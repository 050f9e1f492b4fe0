import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection } from 'mysql2/promise';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { importOutcome, makeTempDir, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let db: Connection;
let fixture: DumpFixture;
const schema = uniqueName('tempest_values');
const reference = `${schema}_ref`;
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-values');

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
  fixture = generateDump({ schema, dir: `${dir}/dump`, rows: 900, rowsPerFile: 250, seed: 7 });
  await loadReference(db, reference, fixture);
});

after(async () => {
  await dropDatabases(db, [schema, reference, taskInfo]);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a dump of SQL and CSV files, plain and gzip, lands with every value equal to the source', async () => {
  const config = writeConfig(dir, { sourceDir: `${dir}/dump`, temporalAddress: env.address, taskQueue: uniqueName('q'), taskInfoSchema: taskInfo });
  const { tables } = await withWorker(env.nativeConnection, env.address, config, async () => importOutcome(await startImport(env.client, config), config));

  const byKey = new Map(tables.map((table) => [table.key, table]));
  for (const table of fixture.tables) {
    const outcome = byKey.get(`\`${schema}\`.\`${table.name}\``);
    assert.ok(outcome, `${table.name} was imported`);
    assert.equal(outcome.rows, table.rows.length, `${table.name}: rows read`);
    assert.equal(outcome.verify?.status, 'checksummed', `${table.name}: verified by content checksum (${outcome.verify?.note ?? ''})`);
    assert.equal(outcome.status, CheckpointStatus.analyzed);
    assert.deepEqual(await sortedRows(db, schema, table.name), await sortedRows(db, reference, table.name), `${table.name}: every value`);
  }
  const [progress] = await db.query(`SELECT COUNT(*) AS n FROM \`${taskInfo}\`.tempest_chunk_v1`);
  assert.equal(Number((progress as Array<{ n: string }>)[0].n), 0, 'a finished task leaves no progress rows behind');
});
