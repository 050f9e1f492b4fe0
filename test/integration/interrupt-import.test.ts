import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { freePort } from '../helpers/free-port';
import { runTempest, tempestBin } from '../helpers/run-tempest';
import { committedRows, mariadb, sortedRows, testScratch, uniqueName } from '../helpers/target-db';

const scratch = testScratch('tempest-interrupt');
const schema = uniqueName('tempest_interrupt');
let prepared: Promise<DumpFixture> | undefined;

/** The dump both tests import, and its reference copy loaded by the target itself (once). */
function dumpFixture(): Promise<DumpFixture> {
  return (prepared ??= (async () => {
    scratch.databases.push(schema, `${schema}_ref`);
    const fixture = generateDump({ schema, dir: path.join(scratch.dir, 'dump'), rows: 12000, rowsPerFile: 1000, seed: 17 });
    await loadReference(scratch.db, `${schema}_ref`, fixture);
    return fixture;
  })());
}

/** A config on the embedded Temporal (its own state folder and ports), importing into `target`. */
async function embeddedConfig(name: string, target: string): Promise<{ config: string; taskInfo: string }> {
  const taskInfo = `${target}_info`;
  scratch.databases.push(target, taskInfo);
  const config = path.join(scratch.dir, `${name}.toml`);
  fs.writeFileSync(
    config,
    `[lightning]
region-concurrency = 2
task-info-schema-name = "${taskInfo}"
[mydumper]
data-source-dir = ${JSON.stringify(path.join(scratch.dir, 'dump'))}
[tikv-importer]
logical-import-batch-rows = 50
[tidb]
host = "${mariadb.host}"
port = ${mariadb.port}
user = "${mariadb.user}"
[checkpoint]
dsn = ${JSON.stringify(path.join(scratch.dir, `${name}.pb`))}
[[routes]]
schema-pattern = "${schema}"
target-schema = "${target}"
[temporal]
state-dir = ${JSON.stringify(path.join(scratch.dir, `${name}-state`))}
dev-server-port = ${await freePort()}
dev-server-ui-port = ${await freePort()}
heartbeat-timeout = "4s"
`,
  );
  return { config, taskInfo };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} on an attached import exits within 2 s with its code; the same command then resumes and finishes with every row`, async () => {
    const fixture = await dumpFixture();
    const target = uniqueName(`tempest_${signal.toLowerCase()}`);
    const { config, taskInfo } = await embeddedConfig(signal, target);
    const child = spawn(tempestBin, ['import', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => (stdout += data));
    child.stderr.on('data', (data) => (stderr += data));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    while ((await committedRows(scratch.db, taskInfo)) === 0) {
      assert.equal(child.exitCode, null, `still importing when the first rows commit: ${stdout}${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sentAt = Date.now();
    child.kill(signal);
    const code = await exited;
    const took = Date.now() - sentAt;
    assert.equal(code, signal === 'SIGINT' ? 130 : 143, `exit code; stderr: ${stderr}`);
    assert.ok(took < 2000, `exited ${took} ms after ${signal}`);
    assert.match(stdout, /interrupted: the import stops where it is, with no row lost or written twice; run the same command again to resume it/);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');

    const again = await runTempest(['import', '-c', config], 240_000);
    assert.equal(again.code, 0, `the second run finishes: ${again.stdout}${again.stderr}`);
    assert.match(again.stdout, /import finished: /);
    for (const table of fixture.tables) {
      assert.deepEqual(await sortedRows(scratch.db, target, table.name), await sortedRows(scratch.db, `${schema}_ref`, table.name), `${table.name}: every row once`);
    }
  });
}
