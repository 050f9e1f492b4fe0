import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection } from 'mysql2/promise';
import { rootCauseMessage } from '../../client/failure-message';
import { generateDump, loadReference, seededRandom, type DumpFixture } from '../helpers/dump-fixture';
import { importOutcome, makeTempDir, spawnWorker, startImport, waitForExit, writeConfig } from '../helpers/import-harness';
import { adminConnection, committedRows, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let db: Connection;
let fixture: DumpFixture;
const schema = uniqueName('tempest_kill');
const reference = `${schema}_ref`;
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-kill');
const workers: ChildProcess[] = [];

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
  fixture = generateDump({ schema, dir: path.join(dir, 'dump'), rows: 12000, rowsPerFile: 2000, seed: 11 });
  await loadReference(db, reference, fixture);
});

after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers.map(waitForExit));
  await dropDatabases(db, [schema, reference, taskInfo]);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});


test('kill -9 of the worker at random moments, five times or more: every table ends equal to the source', async () => {
  const config = writeConfig(dir, {
    sourceDir: path.join(dir, 'dump'),
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    // Small batches: many commits, so kills land between and inside transactions.
    importer: 'logical-import-batch-rows = 40',
  });
  const handle = await startImport(env.client, config);
  const random = seededRandom(3);
  const logFile = path.join(dir, 'workers.log');
  let worker = spawnWorker(config, logFile);
  workers.push(worker);
  let finished = false;
  const result = importOutcome(handle, config).then(
    (outcome) => ({ outcome }),
    (error: unknown) => ({ error }),
  );
  void result.then(() => {
    finished = true;
  });

  // Kill at random points of the import's own progress (committed rows), so every kill lands
  // mid-import however fast the machine is; the worker is restarted right away each time.
  const totalRows = fixture.tables.reduce((sum, table) => sum + table.rows.length, 0);
  const killPoints = Array.from({ length: 6 }, () => 0.05 + random() * 0.85).sort((a, b) => a - b);
  let kills = 0;
  while (!finished && kills < killPoints.length) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if ((await committedRows(db, taskInfo)) < killPoints[kills] * totalRows || finished) continue;
    worker.kill('SIGKILL');
    await waitForExit(worker);
    kills++;
    worker = spawnWorker(config, logFile);
    workers.push(worker);
  }
  const settled = await result;
  if ('error' in settled) assert.fail(`the import failed: ${rootCauseMessage(settled.error)}`);
  const { outcome } = settled;

  assert.ok(kills >= 5, `the worker was killed ${kills} times during the import (at least 5 wanted)`);
  for (const table of fixture.tables) {
    const imported = outcome.tables.find((candidate) => candidate.key === `\`${schema}\`.\`${table.name}\``);
    assert.equal(imported?.verify?.status, 'checksummed', `${table.name}: verified (${imported?.verify?.note ?? ''})`);
    assert.deepEqual(await sortedRows(db, schema, table.name), await sortedRows(db, reference, table.name), `${table.name}: no row lost, none twice`);
  }
});
