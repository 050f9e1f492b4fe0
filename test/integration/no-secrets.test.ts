import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection } from 'mysql2/promise';
import type { ImportTaskResult } from '../../workflows/definitions';
import { generateDump } from '../helpers/dump-fixture';
import { makeTempDir, spawnWorker, startImport, waitForExit, writeConfig } from '../helpers/import-harness';
import { fetchTaskHistories } from '../helpers/task-histories';
import { adminConnection, dropDatabases, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let db: Connection;
let worker: ChildProcess | undefined;
const schema = uniqueName('tempest_secret');
const taskInfo = `${schema}_info`;
const user = uniqueName('tempest_user');
// Distinctive, so that finding it anywhere is unambiguous.
const password = `Pw-${uniqueName('x')}-never-in-history`;
const dir = makeTempDir('tempest-secret');

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
  await db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
  await db.query(`GRANT ALL PRIVILEGES ON \`${schema}\`.* TO '${user}'@'%'`);
  await db.query(`GRANT ALL PRIVILEGES ON \`${taskInfo}\`.* TO '${user}'@'%'`);
  // Three rows a file: typed and from_csv have more than 64 files each, so each goes through a table
  // workflow and an engine workflow; keyless (half as many rows) is a small table, imported by the task's activity.
  generateDump({ schema, dir: path.join(dir, 'dump'), rows: 200, rowsPerFile: 3, seed: 9 });
});

after(async () => {
  worker?.kill('SIGKILL');
  if (worker) await waitForExit(worker);
  await dropDatabases(db, [schema, taskInfo]);
  await db.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the database password is nowhere in the history of a finished import, nor in the worker log', async () => {
  const logFile = path.join(dir, 'worker.log');
  const config = writeConfig(dir, {
    sourceDir: path.join(dir, 'dump'),
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    user,
    password,
    lightning: `level = "debug"\nfile = ${JSON.stringify(logFile)}`,
  });
  const handle = await startImport(env.client, config);
  worker = spawnWorker(config, path.join(dir, 'worker-output.log'));
  const result = (await handle.result()) as ImportTaskResult;
  assert.equal(result.tables, 3, 'the import ran, as the user with the password');

  const histories = await fetchTaskHistories(env.client, handle.workflowId);
  const large = ['typed', 'from_csv'].map((name) => `${handle.workflowId}/\`${schema}\`.\`${name}\``);
  assert.deepEqual(
    histories.map((recorded) => `${recorded.workflowType} ${recorded.workflowId}`).sort(),
    [`importTask ${handle.workflowId}`, ...large.map((id) => `importTable ${id}`), ...large.map((id) => `importEngine ${id}/engine-0`)].sort(),
    'the task, the workflows of its two large tables and their engines',
  );
  const smallTables = histories[0].history.events?.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'importSmallTables') ?? [];
  assert.equal(smallTables.length, 1, 'keyless, a small table, imported by an activity of the task');
  const forms = [password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('hex')];
  for (const { workflowId, history } of histories) {
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    assert.ok(bytes.length > 1000, `${workflowId}: a real history`);
    for (const form of forms) assert.equal(bytes.includes(form), false, `${workflowId}: no trace of the password (${form === password ? 'plain' : 'encoded'})`);
  }
  const log = fs.readFileSync(logFile, 'utf8');
  assert.ok(log.includes('Workflow'), 'the worker log was written');
  for (const form of forms) assert.equal(log.includes(form), false, 'the worker log holds no password');
});
