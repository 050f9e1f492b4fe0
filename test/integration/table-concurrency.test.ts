import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { importOutcome, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, testScratch, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * `[lightning] table-concurrency` bounds the tables being written. A table whose rows are all in
 * leaves its place to the next one while it is verified and its indexes are built, so that a long
 * index build does not hold the whole import up.
 */

const scratch = testScratch('tempest-table-concurrency');
let env: TestWorkflowEnvironment | undefined;

before(async () => {
  env = await startTemporal();
});

after(async () => {
  await env?.teardown();
});

function insertRows(table: string, from: number, to: number): string {
  const rows: string[] = [];
  for (let id = from; id < to; id++) rows.push(`(${id},'${table} ${id % 97}')`);
  return `INSERT INTO \`${table}\` VALUES ${rows.join(',')};\n`;
}

/**
 * `slow` has a plain key, built after its rows are in; `next` has none. `slow` starts first (its key
 * waits). In one file `slow` is a small table, imported with `next` by one activity; in 80 files (more
 * than 64) a large one, imported by a table workflow of its own.
 */
function writeDump(schema: string, slowFiles: 1 | 80): string {
  const source = path.join(scratch.dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}.next-schema.sql`), 'CREATE TABLE `next` (`id` int NOT NULL, `label` varchar(40), PRIMARY KEY (`id`));\n');
  fs.writeFileSync(path.join(source, `${schema}.next.000000000.sql`), insertRows('next', 0, 500));
  fs.writeFileSync(path.join(source, `${schema}.slow-schema.sql`), 'CREATE TABLE `slow` (`id` int NOT NULL, `label` varchar(40), PRIMARY KEY (`id`), KEY `label` (`label`));\n');
  // Enough rows that loading them outlasts the test noticing the table and holding it open.
  const perFile = 40_000 / slowFiles;
  for (let file = 0; file < slowFiles; file++) {
    const slowData = fs.openSync(path.join(source, `${schema}.slow.${String(file).padStart(9, '0')}.sql`), 'w');
    for (let from = file * perFile; from < (file + 1) * perFile; from += 500) fs.writeSync(slowData, insertRows('slow', from, from + 500));
    fs.closeSync(slowData);
  }
  return source;
}

async function rowCount(db: Connection, schema: string, table: string): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.\`${table}\``);
  return Number(rows[0].n);
}

/** The table's CREATE TABLE as the server shows it; undefined while it does not exist. */
async function createStatement(db: Connection, schema: string, table: string): Promise<string | undefined> {
  try {
    const [rows] = await db.query<RowDataPacket[]>(`SHOW CREATE TABLE \`${schema}\`.\`${table}\``);
    return String(rows[0]['Create Table']);
  } catch {
    return undefined;
  }
}

async function waitFor(what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const [slowFiles, way] of [
  [1, 'small tables, in one activity'],
  [80, 'a large table, in a workflow of its own'],
] as const) {
  test(`with table-concurrency = 1, the next table loads while the one before it waits for its index build (${way})`, async () => {
    const schema = uniqueName('tempest_table_slots');
    const info = `${schema}_info`;
    scratch.databases.push(schema, info);
    const source = writeDump(schema, slowFiles);
    const config = writeConfig(path.join(scratch.dir, `${schema}-config`), {
      sourceDir: source,
      temporalAddress: env!.address,
      taskQueue: uniqueName('q'),
      taskInfoSchema: info,
      tableConcurrency: 1,
    });
    // An open transaction that has read `slow` keeps its index build from finishing (the ALTER waits
    // for the transaction's metadata lock) without stopping rows going in.
    const holder = await adminConnection();
    try {
      const handle = await startImport(env!.client, config);
      const result = await withWorker(env!.nativeConnection, env!.address, config, async () => {
        await waitFor('`slow` created, its plain key dropped until its rows are in', 60, async () => (await createStatement(scratch.db, schema, 'slow'))?.includes('KEY `label`') === false);
        // Read committed: its later count sees the rows loaded since (it already holds the lock the ALTER waits for).
        await holder.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await holder.query('START TRANSACTION');
        try {
          await rowCount(holder, schema, 'slow');
          assert.doesNotMatch((await createStatement(scratch.db, schema, 'slow'))!, /KEY `label`/, 'the held transaction now keeps the key from being added back');
          await waitFor('`next` imported while `slow` waits for its index', 30, async () => (await rowCount(scratch.db, schema, 'next')) === 500);
          assert.equal(await rowCount(holder, schema, 'slow'), 40_000, '`slow` had all its rows in before `next` started');
        } finally {
          // Also when the check fails: the worker stops only once the index build it runs is done.
          await holder.query('COMMIT');
        }
        return importOutcome(handle, config);
      });
      assert.deepEqual(
        result.tables.map((table) => [table.key, table.rows, table.status]),
        [
          [`\`${schema}\`.\`next\``, 500, CheckpointStatus.analyzed],
          [`\`${schema}\`.\`slow\``, 40_000, CheckpointStatus.analyzed],
        ],
      );
      assert.match((await createStatement(scratch.db, schema, 'slow'))!, /KEY `label` \(`label`\)/);
      const slowWorkflow = await env!.client.workflow
        .getHandle(`${handle.workflowId}/\`${schema}\`.\`slow\``)
        .describe()
        .then((description) => description.type, () => undefined);
      assert.equal(slowWorkflow, slowFiles > 64 ? 'importTable' : undefined, `slow went through ${way}`);
    } finally {
      await holder.end();
    }
  });
}
