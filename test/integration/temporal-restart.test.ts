import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { Connection as DbConnection } from 'mysql2/promise';
import { rootCauseMessage } from '../../client/failure-message';
import { ensureDevServer, type DevServer } from '../../client/temporal/dev-server';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { freePort } from '../helpers/free-port';
import { importOutcome, makeTempDir, spawnWorker, startImport, waitForExit, writeConfig, type TaskTable } from '../helpers/import-harness';
import { adminConnection, committedRows, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';

let db: DbConnection;
let fixture: DumpFixture;
let server: DevServer | undefined;
const schema = uniqueName('tempest_restart');
const reference = `${schema}_ref`;
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-restart');
const workers: ChildProcess[] = [];

before(async () => {
  db = await adminConnection();
  fixture = generateDump({ schema, dir: path.join(dir, 'dump'), rows: 9000, rowsPerFile: 1500, seed: 5 });
  await loadReference(db, reference, fixture);
});

after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers.map(waitForExit));
  await server?.stop();
  await dropDatabases(db, [schema, reference, taskInfo]);
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('stopping and restarting the Temporal dev server in the middle of an import: it completes', async () => {
  const stateDir = path.join(dir, 'temporal-state');
  const [port, uiPort] = [await freePort(), await freePort()];
  server = await ensureDevServer({ stateDir, port, uiPort });
  const config = writeConfig(dir, {
    sourceDir: path.join(dir, 'dump'),
    temporalAddress: server.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    importer: 'logical-import-batch-rows = 40',
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const handle = await startImport(client, config);
  workers.push(spawnWorker(config, path.join(dir, 'worker.log')));

  // Wait until a third of the rows are in, then take the server away for a few seconds.
  const totalRows = fixture.tables.reduce((sum, table) => sum + table.rows.length, 0);
  while ((await committedRows(db, taskInfo)) < totalRows / 3) await new Promise((resolve) => setTimeout(resolve, 50));
  await server.stop();
  const rowsWhileDown = await committedRows(db, taskInfo);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  server = await ensureDevServer({ stateDir, port, uiPort });
  assert.ok(server.startedHere, 'a new server process was started on the same history file');

  let outcome: { tables: TaskTable[] };
  for (;;) {
    try {
      outcome = await importOutcome(handle, config);
      break;
    } catch (error) {
      // While the connection re-establishes, the long poll for the result can fail: ask again.
      if (!/unavailable|connect|transport|deadline/i.test(rootCauseMessage(error))) assert.fail(`the import failed: ${rootCauseMessage(error)}`);
    }
  }
  await connection.close();
  assert.ok(rowsWhileDown < totalRows, 'the server was stopped before the import had finished');
  for (const table of fixture.tables) {
    const imported = outcome.tables.find((candidate) => candidate.key === `\`${schema}\`.\`${table.name}\``);
    assert.equal(imported?.verify?.status, 'checksummed', `${table.name}: verified`);
    assert.deepEqual(await sortedRows(db, schema, table.name), await sortedRows(db, reference, table.name), `${table.name}: equal to the source`);
  }
});
