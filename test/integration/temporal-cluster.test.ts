import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection as TemporalConnection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Connection } from 'mysql2/promise';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { makeTempDir, spawnWorker, tempestMain, waitForExit, writeConfig } from '../helpers/import-harness';
import { adminConnection, committedRows, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporalCluster, type TemporalCluster } from '../helpers/temporal-cluster';

// Black-box on purpose: a config, `tempest` commands and SQL, so that it holds whatever shape the
// workflows take. The one look inside is Temporal's own: which worker runs an activity now.

let cluster: TemporalCluster;
let temporalConnection: TemporalConnection;
let db: Connection;
let fixture: DumpFixture;
const schema = uniqueName('tempest_cluster');
const reference = `${schema}_ref`;
const taskInfo = `${schema}_info`;
const restartSchema = `${schema}_restart`;
const restartTaskInfo = `${restartSchema}_info`;
const dir = makeTempDir('tempest-cluster-test');
const processes: ChildProcess[] = [];

before(async () => {
  cluster = await startTemporalCluster();
  temporalConnection = await TemporalConnection.connect({ address: cluster.address });
  db = await adminConnection();
  fixture = generateDump({ schema, dir: path.join(dir, 'dump'), rows: 12000, rowsPerFile: 1000, seed: 15 });
  await loadReference(db, reference, fixture);
});

after(async () => {
  for (const child of processes) child.kill('SIGKILL');
  await Promise.all(processes.map(waitForExit));
  await temporalConnection?.close();
  await dropDatabases(db, [schema, reference, taskInfo, restartSchema, restartTaskInfo]);
  await db.end();
  await cluster?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The pids of the `tempest worker` processes running an activity now (a worker's identity is pid@host). */
async function pidsRunningActivities(client: Client): Promise<Set<number>> {
  const pids = new Set<number>();
  for await (const execution of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    const description = await client.workflow.getHandle(execution.workflowId, execution.runId).describe().catch(() => undefined);
    for (const activity of description?.raw.pendingActivities ?? []) {
      if (activity.state !== temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) continue;
      const pid = Number((activity.lastWorkerIdentity ?? '').split('@')[0]);
      if (pid) pids.add(pid);
    }
  }
  return pids;
}

function runTempest(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; output: string }> } {
  const child = spawn(process.execPath, [tempestMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(child);
  let output = '';
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  const exit = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
  return { child, exit };
}

test('three workers on a Temporal cluster with four partitions per task queue, one killed with -9 mid-import: every table ends verified and equal to the source', { timeout: 600_000 }, async () => {
  const config = writeConfig(dir, {
    sourceDir: path.join(dir, 'dump'),
    temporalAddress: cluster.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    // Small batches: many commits, so the kill lands inside a chunk.
    importer: 'logical-import-batch-rows = 40',
  });
  const logFile = path.join(dir, 'workers.log');
  const workers = [spawnWorker(config, logFile), spawnWorker(config, logFile), spawnWorker(config, logFile)];
  processes.push(...workers);

  const importRun = runTempest(['import', '-c', config]);
  let finished = false;
  void importRun.exit.then(() => (finished = true));

  const client = new Client({ connection: temporalConnection });
  const totalRows = fixture.tables.reduce((sum, table) => sum + table.rows.length, 0);
  let killed: ChildProcess | undefined;
  while (!finished && !killed) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if ((await committedRows(db, taskInfo)) < 0.25 * totalRows) continue;
    const busy = await pidsRunningActivities(client);
    killed = workers.find((worker) => worker.pid !== undefined && busy.has(worker.pid));
  }
  assert.ok(killed, `a worker was running a chunk while the import was under way (import output: ${finished ? (await importRun.exit).output : 'still running'})`);
  killed.kill('SIGKILL');
  await waitForExit(killed);
  assert.ok((await committedRows(db, taskInfo)) < totalRows, 'the worker was killed before every row was in');

  const { code, output } = await importRun.exit;
  assert.equal(code, 0, `tempest import exits 0: every table imported and verified\n${output}\n${fs.readFileSync(logFile, 'utf8').slice(-4000)}`);
  for (const table of fixture.tables) {
    assert.deepEqual(await sortedRows(db, schema, table.name), await sortedRows(db, reference, table.name), `${table.name}: no row lost, none twice`);
  }
});

test('the cluster stopped and started again mid-import (history in PostgreSQL): the import goes on and ends verified', { timeout: 600_000 }, async () => {
  const restartDir = path.join(dir, 'restart');
  const config = writeConfig(restartDir, {
    sourceDir: path.join(dir, 'dump'),
    temporalAddress: cluster.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: restartTaskInfo,
    importer: 'logical-import-batch-rows = 40',
    extra: `[[routes]]\nschema-pattern = "${schema}"\ntarget-schema = "${restartSchema}"\n`,
  });
  const logFile = path.join(restartDir, 'workers.log');
  processes.push(spawnWorker(config, logFile), spawnWorker(config, logFile));
  const detached = await runTempest(['import', '--detach', '-c', config]).exit;
  assert.equal(detached.code, 0, `tempest import --detach starts the task\n${detached.output}`);

  const totalRows = fixture.tables.reduce((sum, table) => sum + table.rows.length, 0);
  while ((await committedRows(db, restartTaskInfo)) < totalRows / 4) await new Promise((resolve) => setTimeout(resolve, 100));
  // Measured as it is stopped: a running activity goes on writing while the server is down (and
  // stopping the cluster takes a few seconds), so by the time it is back every row may be in.
  const rowsAtStop = await committedRows(db, restartTaskInfo);
  await cluster.stop();
  await cluster.start();
  assert.ok(rowsAtStop < totalRows, `the server was stopped before every row was in (${rowsAtStop} of ${totalRows})`);

  const { code, output } = await runTempest(['import', '-c', config]).exit;
  assert.equal(code, 0, `tempest import attaches to the task and exits 0: every table imported and verified\n${output}\n${fs.readFileSync(logFile, 'utf8').slice(-4000)}`);
  for (const table of fixture.tables) {
    assert.deepEqual(await sortedRows(db, restartSchema, table.name), await sortedRows(db, reference, table.name), `${table.name}: no row lost, none twice`);
  }
});
