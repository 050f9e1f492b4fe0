import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import protobuf from 'protobufjs';
import { readCheckpointFile } from '../../activities/checkpoint/file-driver';
import { loadConfig } from '../../client/config/load';
import { workerOptionsOf } from '../../client/worker-options';
import { createImportWorker } from '../../worker/create-worker';
import { taskSummaryQuery, type ImportTaskResult, type TaskSummary } from '../../workflows/definitions';
import type { importTask } from '../../workflows/import-task';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { makeTempDir, spawnWorker, startImport, taskRefOf, tempestMain, waitForExit, waitForOperator, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, committedRows, dropDatabases, sortedRows, testTarget, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

const run = promisify(execFile);
const protoFile = path.resolve(__dirname, '../../../proto/checkpoints.proto');
let env: TestWorkflowEnvironment;
let db: Connection;
const dir = makeTempDir('tempest-checkpoints');
const databases: string[] = [];
const workers: ChildProcess[] = [];

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
});

after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers.map(waitForExit));
  await dropDatabases(db, databases);
  await db.end();
  await env?.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Prepared {
  schema: string;
  fixture: DumpFixture;
  configDir: string;
  config: string;
}

async function prepare(name: string, rows: number, extra = ''): Promise<Prepared> {
  const schema = uniqueName(name);
  databases.push(schema, `${schema}_ref`, `${schema}_info`, `${schema}_ckpt`);
  const fixture = generateDump({ schema, dir: path.join(dir, schema), rows, rowsPerFile: Math.ceil(rows / 3), seed: 33 });
  await loadReference(db, `${schema}_ref`, fixture);
  const configDir = path.join(dir, `${schema}-config`);
  const config = writeConfig(configDir, {
    sourceDir: path.join(dir, schema),
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: `${schema}_info`,
    importer: 'logical-import-batch-rows = 40',
    extra,
  });
  return { schema, fixture, configDir, config };
}

function tempest(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(process.execPath, [tempestMain, ...args]).then(
    ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => ({ stdout: error.stdout, stderr: error.stderr, code: error.code }),
  );
}

/** The task's summary once `reached` holds of it. */
async function waitForSummary(handle: WorkflowHandle<typeof importTask>, reached: (summary: TaskSummary) => boolean): Promise<TaskSummary> {
  for (;;) {
    const summary = await handle.query(taskSummaryQuery);
    if (reached(summary)) return summary;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface PlannedChunk {
  key: string;
  path: string;
  offset: number;
  endOffset: number;
  fileSize: number;
  type: string;
  compression: string;
  /** From the chunk's committed progress (none yet: pending). */
  finished: boolean;
  pos?: number;
  rows: number;
}

/** Each table's chunks, as the task planned them on the target, with their committed progress. */
async function plannedChunks(handle: WorkflowHandle, config: string): Promise<Map<string, PlannedChunk[]>> {
  const { taskId, taskInfoSchema } = await taskRefOf(handle, config);
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT t.table_name, c.path, c.\`offset\`, c.end_offset, c.file_size, c.type, c.compression, p.pos, p.row_count, p.finished
       FROM \`${taskInfoSchema}\`.tempest_chunk_plan_v1 c
       JOIN \`${taskInfoSchema}\`.tempest_table_v1 t ON t.task_id = c.task_id AND t.ordinal = c.table_ordinal
       LEFT JOIN \`${taskInfoSchema}\`.tempest_chunk_v1 p ON p.task_id = c.task_id AND p.table_name = t.table_name AND p.path = c.path AND p.\`offset\` = c.\`offset\`
      WHERE c.task_id = ? ORDER BY c.table_ordinal, c.chunk_ordinal`,
    [taskId],
  );
  const byTable = new Map<string, PlannedChunk[]>();
  for (const row of rows) {
    const chunks = byTable.get(row.table_name) ?? [];
    byTable.set(row.table_name, chunks);
    chunks.push({
      key: `${row.path}:${row.offset}`,
      path: row.path,
      offset: Number(row.offset),
      endOffset: Number(row.end_offset),
      fileSize: Number(row.file_size),
      type: row.type,
      compression: row.compression,
      finished: Number(row.finished) === 1,
      pos: row.pos === null ? undefined : Number(row.pos),
      rows: row.row_count === null ? 0 : Number(row.row_count),
    });
  }
  return byTable;
}

async function assertEqualToSource(prepared: Prepared): Promise<void> {
  for (const table of prepared.fixture.tables) {
    assert.deepEqual(await sortedRows(db, prepared.schema, table.name), await sortedRows(db, `${prepared.schema}_ref`, table.name), `${table.name}: every row, once`);
  }
}

/** Runs a worker that answers queries and updates but imports nothing, while `work` runs. */
async function withWorkflowsOnlyWorker<T>(config: string, work: () => Promise<T>): Promise<T> {
  const worker = await createImportWorker({ ...workerOptionsOf(loadConfig(config), env.nativeConnection, env.address), workflowsOnly: true });
  return worker.runUntil(work());
}

test('the exported .pb decodes with protobufjs from proto/checkpoints.proto and matches the task field by field; the MySQL export has Lightning’s tables', async () => {
  const prepared = await prepare('tempest_export', 300);
  const bad = path.join(dir, prepared.schema, `${prepared.schema}.typed.000000000.sql`);
  fs.appendFileSync(bad, 'INSERT INTO `typed` VALUES (1, broken);\n');
  const handle = await startImport(env.client, prepared.config);
  await withWorker(env.nativeConnection, env.address, prepared.config, async () => {
    const { tables } = await waitForOperator(handle, prepared.config);
    // Meanwhile [checkpoint] driver = "file" keeps Lightning's checkpoint file current: it comes to show the failure.
    const keptFile = path.join(prepared.configDir, 'tidb_lightning_checkpoint.pb');
    const failedStatus = tables.find((table) => table.name === 'typed')!.status;
    for (let tries = 0; ; tries++) {
      const kept = fs.existsSync(keptFile) ? await readCheckpointFile(keptFile) : undefined;
      if (kept?.tables.find((table) => table.key === `\`${prepared.schema}\`.\`typed\``)?.status === failedStatus) break;
      assert.ok(tries < 100, 'the kept checkpoint file shows the failed table within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const output = path.join(prepared.configDir, 'export.pb');
    const exported = await tempest('checkpoint', 'export', '-c', prepared.config, '--output', output);
    assert.equal(exported.code, 0, exported.stderr);
    const mysqlExport = await tempest('checkpoint', 'export', '-c', prepared.config, '--driver', 'mysql', '--schema', `${prepared.schema}_ckpt`);
    assert.equal(mysqlExport.code, 0, mysqlExport.stderr);

    const type = protobuf.loadSync(protoFile).lookupType('tempest.checkpoints.CheckpointsModel');
    const decoded = type.toObject(type.decode(fs.readFileSync(output)), { longs: Number }) as {
      checkpoints: Record<string, { status: number; engines: Record<string, { status: number; chunks: Record<string, Record<string, number | string>> }> }>;
      taskCheckpoint: { sourceDir: string; backend: string; tidbHost: string; tidbPort: number };
    };
    assert.equal(decoded.taskCheckpoint.sourceDir, path.join(dir, prepared.schema));
    assert.equal(decoded.taskCheckpoint.backend, 'tidb');
    assert.equal(decoded.taskCheckpoint.tidbPort, testTarget.port);
    assert.deepEqual(Object.keys(decoded.checkpoints).sort(), tables.map((table) => table.key).sort());
    const planned = await plannedChunks(handle, prepared.config);
    let chunkCount = 0;
    for (const table of tables) {
      const checkpoint = decoded.checkpoints[table.key];
      assert.equal(checkpoint.status, table.status, `${table.key}: status`);
      const tableChunks = planned.get(table.key) ?? [];
      assert.ok(tableChunks.length > 0, `${table.key}: its chunks are planned`);
      const chunks = checkpoint.engines['0'].chunks;
      assert.equal(Object.keys(chunks).length, tableChunks.length, `${table.key}: one chunk each`);
      chunkCount += tableChunks.length;
      for (const chunk of tableChunks) {
        const exportedChunk = chunks[`${chunk.path}:${chunk.offset}`];
        assert.ok(exportedChunk, `${chunk.key} exported under Lightning's chunk key`);
        assert.equal(exportedChunk.path, chunk.path);
        assert.equal(exportedChunk.offset ?? 0, chunk.offset);
        assert.equal(exportedChunk.fileSize, chunk.fileSize);
        assert.equal(exportedChunk.type, chunk.type === 'sql' ? 3 : 4);
        assert.equal(exportedChunk.compression ?? 0, chunk.compression === 'gzip' ? 1 : 0);
        if (chunk.finished) {
          // Finished at its end, as Lightning records a finished chunk (its position may stop before the file's last `;` and newline).
          assert.equal(exportedChunk.pos, chunk.endOffset >= 0 ? chunk.endOffset : chunk.pos, `${chunk.key}: finished at its end`);
          assert.equal(exportedChunk.endOffset, exportedChunk.pos, `${chunk.key}: pos = end_offset`);
          assert.equal(exportedChunk.kvcKvs, chunk.rows, `${chunk.key}: rows`);
        }
      }
    }
    const failedChunk = Object.values(decoded.checkpoints[`\`${prepared.schema}\`.\`typed\``].engines['0'].chunks).find((chunk) => chunk.path === bad)!;
    assert.equal(failedChunk.kvcKvs, 100, 'the failed chunk exports the rows committed before the malformed one');
    assert.ok(Number(failedChunk.pos) > 0 && Number(failedChunk.pos) < fs.statSync(bad).size, 'and the position it stopped at');

    const [columns] = await db.query<RowDataPacket[]>(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS d FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      [`${prepared.schema}_ckpt`],
    );
    const layout = (table: string) => columns.filter((row) => row.t === table).map((row) => `${row.c} ${row.d}`);
    assert.deepEqual(layout('task_v2'), ['id tinyint', 'task_id bigint', 'source_dir varchar', 'backend varchar', 'importer_addr varchar', 'tidb_host varchar', 'tidb_port int', 'pd_addr varchar', 'sorted_kv_dir varchar', 'lightning_ver varchar']);
    for (const column of ['task_id bigint', 'table_name varchar', 'hash binary', 'status tinyint', 'table_id bigint', 'table_info longtext', 'kv_bytes bigint', 'kv_kvs bigint', 'kv_checksum bigint', 'auto_rand_base bigint', 'auto_incr_base bigint', 'auto_row_id_base bigint']) {
      assert.ok(layout('table_v10').includes(column), `table_v10 has ${column}`);
    }
    assert.deepEqual(layout('engine_v5'), ['table_name varchar', 'engine_id int', 'status tinyint', 'create_time timestamp', 'update_time timestamp']);
    for (const column of ['table_name varchar', 'engine_id int', 'path varchar', 'offset bigint', 'type int', 'compression int', 'sort_key varchar', 'file_size bigint', 'columns text', 'should_include_row_id tinyint', 'end_offset bigint', 'pos bigint', 'prev_rowid_max bigint', 'rowid_max bigint', 'kvc_bytes bigint', 'kvc_kvs bigint', 'kvc_checksum bigint']) {
      assert.ok(layout('chunk_v5').includes(column), `chunk_v5 (as Lightning writes it) has ${column}`);
    }
    assert.deepEqual(layout('chunk_v6'), [], 'a new schema gets only the chunk table Lightning reads');
    const [chunkRows] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${prepared.schema}_ckpt\`.chunk_v5`);
    assert.equal(Number(chunkRows[0].n), chunkCount, 'every chunk in chunk_v5');
    await handle.terminate('test done');
  });
});

test('an export from a run killed halfway starts a new import that ends equal to the source', async () => {
  const prepared = await prepare('tempest_takeover', 9000);
  const handle = await startImport(env.client, prepared.config);
  const worker = spawnWorker(prepared.config, path.join(prepared.configDir, 'worker.log'));
  workers.push(worker);
  const totalRows = prepared.fixture.tables.reduce((sum, table) => sum + table.rows.length, 0);
  while ((await committedRows(db, `${prepared.schema}_info`)) < totalRows / 2) await new Promise((resolve) => setTimeout(resolve, 50));
  worker.kill('SIGKILL');
  await waitForExit(worker);
  const exportedAt = await committedRows(db, `${prepared.schema}_info`);
  assert.ok(exportedAt < totalRows, 'killed before the end');

  const checkpoint = path.join(prepared.configDir, 'takeover.pb');
  const exported = await withWorkflowsOnlyWorker(prepared.config, () => tempest('checkpoint', 'export', '-c', prepared.config, '--output', checkpoint));
  assert.equal(exported.code, 0, exported.stderr);
  // The first task is gone (as if its Temporal history were lost); a new task starts from the file.
  await handle.terminate('replaced by an import from the exported checkpoint');
  const resumed = writeConfig(path.join(prepared.configDir, 'resumed'), {
    sourceDir: path.join(dir, prepared.schema),
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: `${prepared.schema}_info`,
    extra: '',
  });
  fs.writeFileSync(resumed, fs.readFileSync(resumed, 'utf8').replace(/dsn = .*\n/, `dsn = ${JSON.stringify(checkpoint)}\nkeep-after-success = "origin"\n`));
  const second = await startImport(env.client, resumed);
  const result = await withWorker(env.nativeConnection, env.address, resumed, async () => {
    const state = await waitForSummary(second, (summary) => summary.takenOver !== undefined || !['planning', 'restoring schemas', 'prechecking'].includes(summary.phase));
    assert.ok(state.takenOver && state.takenOver.rows > 0, `the new task took over ${state.takenOver?.rows} rows from ${state.takenOver?.source}`);
    return (await second.result()) as ImportTaskResult;
  });
  assert.equal(result.tables, 3);
  await assertEqualToSource(prepared);
});

test('a changed input file and a recreated target table are refused, not skipped', async () => {
  const prepared = await prepare('tempest_refuse', 300);
  const typedFile = path.join(dir, prepared.schema, `${prepared.schema}.typed.000000000.sql`);
  const keylessFile = path.join(dir, prepared.schema, `${prepared.schema}.keyless.000000000.sql`);
  const originalLength = fs.statSync(typedFile).size;
  fs.appendFileSync(typedFile, 'INSERT INTO `typed` VALUES (1, broken);\n');
  const keylessLength = fs.statSync(keylessFile).size;
  fs.appendFileSync(keylessFile, 'INSERT INTO `keyless` VALUES (1, broken);\n');
  const handle = await startImport(env.client, prepared.config);
  await withWorker(env.nativeConnection, env.address, prepared.config, async () => {
    await waitForOperator(handle, prepared.config);
    // The typed file is "fixed", but an already imported row is changed too.
    const fixed = fs.readFileSync(typedFile).subarray(0, originalLength);
    const early = fixed.indexOf('(5,');
    fixed.write('(6,', early);
    fs.writeFileSync(typedFile, fixed);
    // The keyless table is fixed properly, but the target table is dropped and created again.
    fs.truncateSync(keylessFile, keylessLength);
    await db.query(`DROP TABLE \`${prepared.schema}\`.keyless`);
    await db.query(`CREATE TABLE \`${prepared.schema}\`.keyless (a INT NOT NULL, b VARCHAR(30) NOT NULL, c DECIMAL(6,2) NOT NULL)`);

    const ignored = await tempest('ctl', '-c', prepared.config, '--checkpoint-error-ignore=all');
    assert.equal(ignored.code, 0, ignored.stderr);
    // Read from the table queue: a summary the task has yet to bring up to date would still show the first failures.
    const { tables } = await waitForOperator(handle, prepared.config);
    const byName = (name: string) => tables.find((table) => table.name === name)!;
    assert.equal(byName('typed').failure?.type, 'SourceChangedError');
    assert.match(byName('typed').failure?.message ?? '', /changed before byte offset \d+, in the part already imported/);
    assert.equal(byName('keyless').failure?.type, 'TargetChangedError');
    assert.match(byName('keyless').failure?.message ?? '', /(dropped and created again|is empty although)/);
    const status = await tempest('status', '-c', prepared.config);
    assert.match(status.stdout, /--checkpoint-error-destroy=/, 'status says how to start over');
    await handle.terminate('test done');
  });
});
