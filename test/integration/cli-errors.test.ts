import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeCheckpointFile } from '../../activities/checkpoint/file-driver';
import { loadConfig } from '../../client/config/load';
import { taskWorkflowId } from '../../client/task-settings';
import { freePort } from '../helpers/free-port';
import { generateDump } from '../helpers/dump-fixture';
import { startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { runTempest, tempestBin, type TempestRun } from '../helpers/run-tempest';
import { mariadb, testScratch, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
const scratch = testScratch('tempest-cli-errors');
const { dir, databases } = scratch;

before(async () => {
  env = await startTemporal();
});

after(async () => {
  await env?.teardown();
});

/** A config of its own for one test: a small dump, a task queue no worker polls, the test's Temporal. */
function prepare(name: string, options: { dump?: boolean; temporalAddress?: string } = {}): { config: string; schema: string; dumpDir: string } {
  const schema = uniqueName(name);
  databases.push(schema, `${schema}_info`);
  const dumpDir = path.join(dir, schema);
  if (options.dump ?? true) generateDump({ schema, dir: dumpDir, rows: 20, seed: 5 });
  else fs.mkdirSync(dumpDir, { recursive: true });
  const config = writeConfig(path.join(dir, `${schema}-config`), {
    sourceDir: dumpDir,
    temporalAddress: options.temporalAddress ?? env.address,
    taskQueue: uniqueName('q'),
    taskInfoSchema: `${schema}_info`,
  });
  return { config, schema, dumpDir };
}

/** One message, the documented exit code, and no stack trace. */
function assertOperationalError(run: TempestRun, code: number, message: RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(run.stderr, /unexpected error/);
}

async function assertNoTask(config: string): Promise<void> {
  const id = taskWorkflowId(loadConfig(config));
  await assert.rejects(env.client.workflow.getHandle(id).describe(), WorkflowNotFoundError, 'no task was started');
}

test('status with Temporal unreachable: one message naming the address, exit 4', async () => {
  const closed = `127.0.0.1:${await freePort()}`;
  const { config } = prepare('tempest_err_temporal', { temporalAddress: closed });
  const run = await runTempest(['status', '-c', config]);
  assertOperationalError(run, 4, new RegExp(`^tempest: Temporal at ${closed.replace(/\./g, '\\.')} does not answer .*start it, or fix \\[temporal\\] address`));
});

test('worker with Temporal unreachable: one message naming the address, exit 4', async () => {
  const closed = `127.0.0.1:${await freePort()}`;
  const { config } = prepare('tempest_err_worker', { dump: false, temporalAddress: closed });
  const run = await runTempest(['worker', '-c', config]);
  assertOperationalError(run, 4, new RegExp(`^tempest: Temporal at ${closed.replace(/\./g, '\\.')} does not answer \\(Connection refused\\)`));
});

test('import of a folder that does not exist: a precheck message, exit 2, and no task', async () => {
  const { config, dumpDir } = prepare('tempest_err_nodir', { dump: false });
  fs.rmSync(dumpDir, { recursive: true });
  const run = await runTempest(['import', '-c', config]);
  assertOperationalError(run, 2, /precheck failed, no task was started:\n {2}- \[mydumper\] data-source-dir: .* does not exist: point it \(or -d\) at the folder of the dump/);
  assert.doesNotMatch(run.stderr, /Temporal at|the target/, 'the other checks pass');
  await assertNoTask(config);
});

test('import of an empty folder: nothing to import, exit 2, and no task', async () => {
  const { config } = prepare('tempest_err_empty', { dump: false });
  const run = await runTempest(['import', '-c', config]);
  assertOperationalError(run, 2, /- nothing to import in .*: it holds no Dumpling\/mydumper data or schema file/);
  await assertNoTask(config);
});

test('import with the target unreachable: a precheck message at once, exit 2, and no task', async () => {
  const { config } = prepare('tempest_err_target');
  const port = await freePort();
  const started = Date.now();
  const run = await runTempest(['import', '-c', config, '--tidb-port', String(port)]);
  assertOperationalError(run, 2, new RegExp(`- the target 127\\.0\\.0\\.1:${port} does not answer \\(ECONNREFUSED\\): check that it runs and \\[tidb\\] host and port`));
  assert.ok(Date.now() - started < 60_000, 'not retried in silence');
  await assertNoTask(config);
});

test('import with a wrong password: the login refused, exit 2', async () => {
  const { config } = prepare('tempest_err_login');
  const user = uniqueName('tempest_u');
  await scratch.db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right'`);
  try {
    const run = await runTempest(['import', '-c', config, '--tidb-user', user, '--tidb-password', 'wrong']);
    assertOperationalError(run, 2, /- the target 127\.0\.0\.1:3306 refused the login: Access denied .*: fix \[tidb\] user and password/);
    assert.doesNotMatch(run.stderr + run.stdout, /wrong/, 'the password is not printed');
  } finally {
    await scratch.db.query(`DROP USER '${user}'@'%'`);
  }
});

test('import as a user who may not create tables: names what it lacks and the GRANT, exit 2', async () => {
  const { config, schema } = prepare('tempest_err_grants');
  const user = uniqueName('tempest_u');
  await scratch.db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, INSERT ON \`${schema}\`.* TO '${user}'@'%'; GRANT ALL ON \`${schema}_info\`.* TO '${user}'@'%'`);
  try {
    const run = await runTempest(['import', '-c', config, '--tidb-user', user, '--tidb-password', 'pw']);
    assertOperationalError(run, 2, new RegExp(`- the target user ${user}@% lacks CREATE, ALTER, UPDATE on \`${schema}\`: grant them \\(GRANT CREATE, ALTER, UPDATE ON \`${schema}\`\\.\\* TO ${user}@%\\)`));
    await assertNoTask(config);
    const unchecked = await runTempest(['import', '-c', config, '--tidb-user', user, '--tidb-password', 'pw', '--check-requirements', 'false', '--temporal-address', '127.0.0.1:1']);
    assert.doesNotMatch(unchecked.stderr, /lacks/, 'check-requirements = false skips the privilege check');
  } finally {
    await scratch.db.query(`DROP USER '${user}'@'%'`);
  }
});

test('import with the checkpoint of another import in [checkpoint] dsn: refused before a task starts, exit 2', async () => {
  const { config } = prepare('tempest_err_checkpoint');
  const file = loadConfig(config).checkpoint.dsn;
  await writeCheckpointFile(file, { task: { taskId: '1', sourceDir: 'file:///data/another-dump', backend: 'tidb', tidbHost: '127.0.0.1', tidbPort: 4000, lightningVersion: '' }, tables: [] });
  const run = await runTempest(['import', '-c', config]);
  assertOperationalError(run, 2, /- the checkpoint in .* is of an import of file:\/\/\/data\/another-dump, not of .*Remove it or point \[checkpoint\] dsn elsewhere/);
  await assertNoTask(config);
});

test('import into tables that already hold rows: names them and what to do, exit 2, and no task', async () => {
  const { config, schema } = prepare('tempest_err_full');
  await scratch.db.query(`CREATE DATABASE \`${schema}\`; CREATE TABLE \`${schema}\`.keyless (id INT); INSERT INTO \`${schema}\`.keyless VALUES (1); CREATE TABLE \`${schema}\`.typed (id INT)`);
  const run = await runTempest(['import', '-c', config]);
  assertOperationalError(
    run,
    2,
    new RegExp(`- \`${schema}\`\\.\`keyless\` already holds rows; .*: empty it \\(TRUNCATE TABLE \`${schema}\`\\.\`keyless\`\\) or leave it out of the import \\(add "!${schema}\\.keyless" to \\[mydumper\\] filter\\)`),
  );
  assert.doesNotMatch(run.stderr, /`typed`/, 'an empty table is no problem');
  await assertNoTask(config);
  const noSchema = path.join(path.dirname(config), 'no-schema.toml');
  fs.writeFileSync(noSchema, fs.readFileSync(config, 'utf8').replace('[mydumper]\n', '[mydumper]\nno-schema = true\n'));
  const missing = await runTempest(['import', '-c', noSchema, '-f', `${schema}.from_csv`]);
  assertOperationalError(missing, 2, new RegExp(`- \`${schema}\`\\.\`from_csv\` does not exist in the target: with \\[mydumper\\] no-schema = true, create them beforehand`));
});

test('ctl for a task that does not exist: says so and what to run, exit 2', async () => {
  const { config } = prepare('tempest_err_notask');
  const run = await runTempest(['ctl', '-c', config, '--checkpoint-error-ignore=all']);
  assertOperationalError(run, 2, /^tempest: no task tempest-import-\S+: nothing to change \(start it with `tempest import -c /);
});

test('ctl --checkpoint-dump with no worker polling: says to start one, exit 4', async () => {
  const { config } = prepare('tempest_err_noworker');
  const task = await startImport(env.client, config);
  try {
    const run = await runTempest(['ctl', '-c', config, `--checkpoint-dump=${path.join(dir, 'dump-out')}`]);
    assertOperationalError(run, 4, new RegExp(`^tempest: no worker answers for task ${task.workflowId} \\(task queue "q_[0-9a-f]+" on 127\\.0\\.0\\.1:\\d+\\): start one with \`tempest worker -c `));
  } finally {
    await task.terminate();
  }
});

test('the task line links the Web UI of [temporal] web-ui on a server of one\'s own, leaves it out when unset, and says when no worker polls', async () => {
  const { config } = prepare('tempest_web_ui');
  const withLink = path.join(path.dirname(config), 'with-web-ui.toml');
  fs.writeFileSync(withLink, fs.readFileSync(config, 'utf8').replace('[temporal]\n', '[temporal]\nweb-ui = "https://temporal.example.com/"\n'));
  const id = taskWorkflowId(loadConfig(config));
  try {
    const linked = await runTempest(['import', '-c', withLink, '--detach']);
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, new RegExp(`^task ${id} on 127\\.0\\.0\\.1:\\d+; Web UI: https://temporal\\.example\\.com/namespaces/default/workflows/${id}$`, 'm'));
    assert.match(linked.stdout, /no worker polls task queue "q_[0-9a-f]+" yet: the task waits until one does \(start one with `tempest worker -c /);
    const plain = await runTempest(['import', '-c', config, '--detach']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, new RegExp(`^task ${id} on 127\\.0\\.0\\.1:\\d+$`, 'm'), 'attached to the same task, with no link');
    assert.doesNotMatch(plain.stdout, /Web UI|your Temporal/);
  } finally {
    await env.client.workflow.getHandle(id).terminate();
  }
});

test('Ctrl-C on an import attached to a server of one\'s own detaches within 2 s with 130; the task goes on', async () => {
  const { config } = prepare('tempest_detach');
  const child = spawn(tempestBin, ['import', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const id = taskWorkflowId(loadConfig(config));
  try {
    while (!/^task /m.test(stdout)) {
      assert.equal(child.exitCode, null, `still following: ${stdout}${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sentAt = Date.now();
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.ok(Date.now() - sentAt < 2000, `detached ${Date.now() - sentAt} ms after SIGINT`);
    assert.match(stdout, /detached: the task goes on in its workers; run the same command again to follow it, or `tempest status -c /);
    assert.equal((await env.client.workflow.getHandle(id).describe()).status.name, 'RUNNING');
  } finally {
    child.kill('SIGKILL');
    await env.client.workflow.getHandle(id).terminate().catch(() => undefined);
  }
});

/** A port that forwards to the target until closed: a target the test can take down. */
async function targetProxy(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(mariadb.port, mariadb.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

test('ctl --checkpoint-dump with the target down: names the target and what to check, exit 4', async () => {
  const proxy = await targetProxy();
  const { config } = prepare('tempest_err_target_down');
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(`port = ${mariadb.port}`, `port = ${proxy.port}`));
  await withWorker(env.nativeConnection, env.address, config, async () => {
    await (await startImport(env.client, config)).result();
    await proxy.close();
    const run = await runTempest(['ctl', '-c', config, `--checkpoint-dump=${path.join(dir, 'dump-down')}`]);
    assertOperationalError(run, 4, new RegExp(`^tempest: the target 127\\.0\\.0\\.1:${proxy.port} does not answer \\(ECONNREFUSED\\): check that it runs and \\[tidb\\] host and port`));
  });
});
