import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection } from 'mysql2/promise';
import { generateDump, loadReference, seededRandom, type DumpFixture } from '../helpers/dump-fixture';
import { makeTempDir, spawnWorker, waitForExit, writeConfig } from '../helpers/import-harness';
import { adminConnection, committedRows, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

const run = promisify(execFile);
const tempest = path.resolve(__dirname, '../../../bin/tempest');

/*
 * Every workflow of a task continues as new after two children or chunk groups here (the default
 * is 200): the task, its large tables and their engines each run as several runs, while a worker is
 * killed with -9 again and again and a table fails and is fixed with `tempest ctl`.
 */
let env: TestWorkflowEnvironment;
let db: Connection;
let fixture: DumpFixture;
const schema = uniqueName('tempest_can');
const reference = `${schema}_ref`;
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-can');
const dump = path.join(dir, 'dump');
const workers: ChildProcess[] = [];
const tinyTables = ['tiny1', 'tiny2', 'tiny3', 'tiny4'];
const badFile = path.join(dump, `${schema}.bad.000000000.sql`);

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
  // 12 rows a file: every fixture table has more than 64 files, so it goes through the table and
  // engine workflows, and `typed` has three engines of more than two chunk groups (64 files) each.
  fixture = generateDump({ schema, dir: dump, rows: 4000, rowsPerFile: 12, seed: 5 });
  await loadReference(db, reference, fixture);
  for (const name of [...tinyTables, 'bad']) fs.writeFileSync(path.join(dump, `${schema}.${name}-schema.sql`), `CREATE TABLE \`${name}\` (id INT PRIMARY KEY, v INT NOT NULL);\n`);
  for (const [index, name] of tinyTables.entries()) fs.writeFileSync(path.join(dump, `${schema}.${name}.000000000.sql`), `INSERT INTO \`${name}\` VALUES (1,${index}),(2,${index}),(3,${index});\n`);
  fs.writeFileSync(badFile, "INSERT INTO `bad` VALUES (1,1),(2,'not a number');\n");
});

after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers.map(waitForExit));
  await dropDatabases(db, [schema, reference, taskInfo]);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Bytes of the `typed` table's data files. */
function typedBytes(): number {
  return fs
    .readdirSync(dump)
    .filter((name) => name.startsWith(`${schema}.typed.`))
    .reduce((sum, name) => sum + fs.statSync(path.join(dump, name)).size, 0);
}

async function status(config: string): Promise<{ status: string; phase?: string; tables?: { total: number; finished: number; failed: number }; result?: { tables: number; rows: number; checksummed: number } }> {
  const { stdout } = await run(tempest, ['status', '-c', config, '--json']).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('a task whose workflows continue as new every two steps imports every row once, through worker kills and a ctl fix', async () => {
  const config = writeConfig(dir, {
    sourceDir: dump,
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    mydumper: `batch-size = ${Math.ceil(typedBytes() / 3) + 1}`,
    importer: 'logical-import-batch-rows = 40',
    extra: 'continue-as-new-after = 2',
  });
  const logFile = path.join(dir, 'workers.log');
  let worker = spawnWorker(config, logFile);
  workers.push(worker);
  await run(tempest, ['import', '-c', config, '--detach']);

  // Killed at random points of the import's own progress, and restarted at once.
  const random = seededRandom(8);
  const totalRows = fixture.tables.reduce((sum, table) => sum + table.rows.length, 0);
  const killPoints = Array.from({ length: 4 }, () => 0.05 + random() * 0.8).sort((a, b) => a - b);
  let kills = 0;
  let state = await status(config);
  while (state.phase !== 'waiting for operator' && state.status === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (kills < killPoints.length && (await committedRows(db, taskInfo)) >= killPoints[kills] * totalRows) {
      worker.kill('SIGKILL');
      await waitForExit(worker);
      kills++;
      worker = spawnWorker(config, logFile);
      workers.push(worker);
    }
    state = await status(config);
  }
  assert.equal(state.phase, 'waiting for operator', `the task waits for the operator (${JSON.stringify(state)})`);
  assert.equal(state.tables?.failed, 1, 'one table failed: bad');
  assert.ok(kills >= 2, `the worker was killed ${kills} times during the import`);

  fs.writeFileSync(badFile, 'INSERT INTO `bad` VALUES (1,1),(2,2);\n');
  const ctl = await run(tempest, ['ctl', '-c', config, `--checkpoint-error-ignore=\`${schema}\`.\`bad\``]);
  assert.match(ctl.stdout, /back to loaded; it resumes from its chunk positions/);
  for (state = await status(config); state.status === 'running'; state = await status(config)) await new Promise((resolve) => setTimeout(resolve, 200));

  assert.equal(state.status, 'completed', JSON.stringify(state));
  const tables = fixture.tables.length + tinyTables.length + 1;
  assert.deepEqual({ tables: state.result?.tables, checksummed: state.result?.checksummed }, { tables, checksummed: tables }, 'every table imported and verified by checksum');
  for (const table of fixture.tables) {
    assert.deepEqual(await sortedRows(db, schema, table.name), await sortedRows(db, reference, table.name), `${table.name}: no row lost, none twice`);
  }
  for (const [index, name] of tinyTables.entries()) assert.deepEqual(await sortedRows(db, schema, name), [1, 2, 3].map((id) => [id, index]), `${name}: its rows`);
  assert.deepEqual(await sortedRows(db, schema, 'bad'), [[1, 1], [2, 2]], 'bad: fixed and resumed');

  // Each kind of workflow ran as several runs, none of them long (this file's server holds this task only).
  const runs = { task: 0, table: 0, engine: 0 };
  let longest = 0;
  for await (const execution of env.client.workflow.list({ query: `WorkflowId STARTS_WITH 'tempest-import-'` })) {
    const kind = execution.workflowId.includes('/engine-') ? 'engine' : execution.workflowId.includes('/') ? 'table' : 'task';
    if (execution.status.name === 'CONTINUED_AS_NEW') runs[kind]++;
    longest = Math.max(longest, execution.historyLength);
  }
  assert.ok(runs.task >= 2 && runs.table >= 1 && runs.engine >= 1, `task, table and engine workflows continued as new (${JSON.stringify(runs)})`);
  assert.ok(longest < 400, `every run's history stays short (the longest has ${longest} events)`);
});
