import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { importOutcome, startImport, tempestMain, waitForOperator, withWorker, writeConfig } from '../helpers/import-harness';
import { sortedRows, testScratch, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

const run = promisify(execFile);
let env: TestWorkflowEnvironment;
const scratch = testScratch('tempest-ctl');
const { dir, databases } = scratch;

before(async () => {
  env = await startTemporal();
});

after(async () => {
  await env.teardown();
});

interface Scenario {
  schema: string;
  fixture: DumpFixture;
  config: string;
  /** Each corrupted file with its original length, and the offset of the bad bytes. */
  corrupted: Array<{ table: string; file: string; length: number; badOffset: number }>;
}

/**
 * A dump whose named tables each end one of their plain files with a malformed row. With 100 rows
 * a file every table is small (imported with the others by one activity); with 4, typed and
 * from_csv have more than 64 files, and each is imported by a workflow of its own.
 */
async function prepare(name: string, corruptTables: string[], rowsPerFile: 100 | 4 = 100): Promise<Scenario> {
  const schema = uniqueName(name);
  databases.push(schema, `${schema}_ref`, `${schema}_info`);
  const dumpDir = path.join(dir, schema);
  const fixture = generateDump({ schema, dir: dumpDir, rows: 300, rowsPerFile, seed: 21 });
  await loadReference(scratch.db, `${schema}_ref`, fixture);
  const corrupted = corruptTables.map((table) => {
    const format = fixture.tables.find((candidate) => candidate.name === table)!.format;
    const file = path.join(dumpDir, `${schema}.${table}.000000000.${format}`);
    const length = fs.statSync(file).size;
    const bad = format === 'sql' ? `INSERT INTO \`${table}\` VALUES (999999, oops);\n` : `"999999","unterminated\n`;
    fs.appendFileSync(file, bad);
    return { table, file, length, badOffset: length + bad.indexOf(format === 'sql' ? 'oops' : '"unterminated') };
  });
  const config = writeConfig(path.join(dir, schema + '-config'), {
    sourceDir: dumpDir,
    temporalAddress: env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: `${schema}_info`,
  });
  return { schema, fixture, config, corrupted };
}

function tempest(...args: string[]): Promise<{ stdout: string; code: number }> {
  return run(process.execPath, [tempestMain, ...args]).then(
    ({ stdout }) => ({ stdout, code: 0 }),
    (error: { stdout: string; code: number }) => ({ stdout: error.stdout, code: error.code }),
  );
}

async function assertEqualToSource(scenario: Scenario): Promise<void> {
  for (const table of scenario.fixture.tables) {
    assert.deepEqual(await sortedRows(scratch.db, scenario.schema, table.name), await sortedRows(scratch.db, `${scenario.schema}_ref`, table.name), `${table.name}: every row, once`);
  }
}

test('a malformed row fails its tables only; the task waits; ctl --checkpoint-error-ignore after the fix completes it', async () => {
  const scenario = await prepare('tempest_ignore', ['typed', 'from_csv']);
  const config = scenario.config;
  const handle = await startImport(env.client, config);
  await withWorker(env.nativeConnection, env.address, config, async () => {
    const { tables } = await waitForOperator(handle, config);
    const byName = (name: string) => tables.find((table) => table.name === name)!;
    assert.equal(byName('keyless').status, CheckpointStatus.analyzed, 'the table without errors finished');
    for (const { table, file, badOffset } of scenario.corrupted) {
      const failed = byName(table);
      assert.equal(failed.status, Math.floor(CheckpointStatus.allWritten / 10), `${table}: failed while writing`);
      assert.match(failed.failure?.message ?? '', new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte offset ${badOffset}\\b`), `${table}: names the file and offset`);
    }
    const [partial] = await scratch.db.query(`SELECT COUNT(*) AS n FROM \`${scenario.schema}\`.typed`);
    assert.equal(Number((partial as Array<{ n: string }>)[0].n), 300, 'every good row is in, those before the malformed one included');

    const status = await tempest('status', '-c', config);
    assert.match(status.stdout, /phase: waiting for operator/);
    assert.ok(status.stdout.includes(`tempest ctl -c ${config} --checkpoint-error-ignore='\`${scenario.schema}\`.\`typed\`'`), `status prints the command to run:\n${status.stdout}`);

    const notFailed = await tempest('ctl', '-c', config, `--checkpoint-error-ignore=\`${scenario.schema}\`.\`keyless\``);
    assert.match(notFailed.stdout, /keyless`: has not failed \(it is finished\): nothing changed/);

    for (const { file, length } of scenario.corrupted) fs.truncateSync(file, length);
    const ignored = await tempest('ctl', '-c', config, '--checkpoint-error-ignore=all');
    assert.equal(ignored.code, 0, ignored.stdout);
    assert.match(ignored.stdout, /typed`: back to loaded; it resumes from its chunk positions/);
    assert.match(ignored.stdout, /from_csv`: back to loaded/);
    const outcome = await importOutcome(handle, config);
    assert.equal(outcome.tables.length, 3);
    assert.ok(outcome.tables.every((table) => table.verify?.status === 'checksummed'), 'every table verified');
  });
  await assertEqualToSource(scenario);
});

test('ctl --checkpoint-error-destroy drops a failed table and imports it again from scratch; =all takes every failed one, and a table that has not failed is left alone', async () => {
  // typed (75 files) is imported by a workflow of its own, keyless (38 files) as a small table: destroy both ways.
  const scenario = await prepare('tempest_destroy', ['typed', 'keyless'], 4);
  const config = scenario.config;
  const handle = await startImport(env.client, config);
  await withWorker(env.nativeConnection, env.address, config, async () => {
    await waitForOperator(handle, config);
    for (const { file, length } of scenario.corrupted) fs.truncateSync(file, length);
    // The partly written table gets a row the source does not have: only a real drop removes it.
    await scratch.db.query(`INSERT INTO \`${scenario.schema}\`.keyless VALUES (42, 'stray', 0)`);
    const typed = `\`${scenario.schema}\`.\`typed\``;
    const destroyed = await tempest('ctl', '-c', config, `--checkpoint-error-destroy=${typed}`);
    assert.match(destroyed.stdout, /typed`: the target table and its progress are dropped/);
    // keyless still waits for the operator, so the task runs on while typed imports again.
    await waitForOperator(handle, config, (tables) => tables.some((table) => table.key === typed && (table.state === 'finished' || table.state === 'failed')));
    const again = await tempest('ctl', '-c', config, `--checkpoint-error-destroy=${typed}`);
    assert.match(again.stdout, /typed`: has not failed \(it is finished\): nothing changed/);
    const all = await tempest('ctl', '-c', config, '--checkpoint-error-destroy=all');
    assert.match(all.stdout, /keyless`: the target table and its progress are dropped/);
    assert.doesNotMatch(all.stdout, /typed`/);
    await handle.result();
  });
  await assertEqualToSource(scenario);
});
