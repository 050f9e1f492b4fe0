/**
 * One fault test's import, black box: a generated dump (a few tables, one keyless, a few MB), the
 * same rows loaded by a plain client into a reference database, a Temporal dev server of its own,
 * `tempest worker` processes and `tempest import` commands run as an operator runs them, and at the
 * end every table compared with the reference. Everything it starts and creates goes afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { ensureDevServer, type DevServer } from '../../client/temporal/dev-server';
import { generateDump, loadReference, type DumpFixture } from './dump-fixture';
import { freePort } from './free-port';
import { makeTempDir, spawnWorker, waitForExit, writeConfig, type ImportConfigOptions } from './import-harness';
import { adminConnection, committedRows, dropDatabases, mariadb, sortedRows, uniqueName } from './target-db';

export interface FaultScenario {
  readonly db: Connection;
  readonly fixture: DumpFixture;
  readonly dir: string;
  readonly taskInfo: string;
  readonly totalRows: number;
  readonly temporalAddress: string;
  /** A tidb-lightning.toml for this import; `port` is the target's port (a proxy's, say). */
  config(options?: Pick<ImportConfigOptions, 'user' | 'password'> & { port?: number }): string;
  startWorker(config: string): ChildProcess;
  /** `kill -9` of a process this scenario started, once it has exited. */
  kill9(child: ChildProcess): Promise<void>;
  /** `tempest import -c config` to its end: its exit code and what it printed. */
  runImport(config: string): Promise<{ code: number | null; output: string }>;
  /** Resolves once this fraction of the rows is committed (or rejects after `timeoutMs`). */
  rowsCommitted(fraction: number, timeoutMs?: number): Promise<void>;
  committed(): Promise<number>;
  /** `kill -9` of the Temporal dev server, then a new one on the same history file and port. */
  killTemporal(downMs: number): Promise<void>;
  /** Every table holds exactly the reference's rows: none lost, none twice. */
  assertTablesEqualReference(): Promise<void>;
}

const tempest = path.resolve(__dirname, '../../../bin/tempest');

export function faultScenario(prefix: string, rows = 12000): FaultScenario {
  const schema = uniqueName(prefix);
  const reference = `${schema}_ref`;
  const taskInfo = `${schema}_info`;
  const dir = makeTempDir(prefix.replace(/_/g, '-'));
  const stateDir = path.join(dir, 'temporal-state');
  const children: ChildProcess[] = [];
  let db: Connection | undefined;
  let fixture: DumpFixture | undefined;
  let server: DevServer | undefined;
  let ports: [number, number] = [0, 0];

  before(async () => {
    db = await adminConnection();
    fixture = generateDump({ schema, dir: path.join(dir, 'dump'), rows, rowsPerFile: Math.ceil(rows / 6), seed: 17 });
    await loadReference(db, reference, fixture);
    ports = [await freePort(), await freePort()];
    server = await ensureDevServer({ stateDir, port: ports[0], uiPort: ports[1] });
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(waitForExit));
    await server?.stop();
    if (db) {
      await dropDatabases(db, [schema, reference, taskInfo]);
      await db.end();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is ready only once the tests start`);
    return value;
  };

  return {
    get db() {
      return need(db, 'the target connection');
    },
    get fixture() {
      return need(fixture, 'the dump');
    },
    dir,
    taskInfo,
    get totalRows() {
      return need(fixture, 'the dump').tables.reduce((sum, table) => sum + table.rows.length, 0);
    },
    get temporalAddress() {
      return need(server, 'the Temporal server').address;
    },
    config(options = {}) {
      const file = writeConfig(dir, {
        sourceDir: path.join(dir, 'dump'),
        temporalAddress: need(server, 'the Temporal server').address,
        taskQueue: `${schema}_q`,
        taskInfoSchema: taskInfo,
        user: options.user,
        password: options.password,
        // Small batches: many commits, so faults land between and inside transactions.
        importer: 'logical-import-batch-rows = 50',
      });
      if (options.port !== undefined) {
        const text = fs.readFileSync(file, 'utf8');
        const line = `port = ${mariadb.port}\n`;
        assert.ok(text.includes(line), 'the [tidb] port line of the config');
        fs.writeFileSync(file, text.replace(line, `port = ${options.port}\n`));
      }
      return file;
    },
    startWorker(config) {
      const child = spawnWorker(config, path.join(dir, 'workers.log'));
      children.push(child);
      return child;
    },
    async kill9(child) {
      child.kill('SIGKILL');
      await waitForExit(child);
    },
    runImport(config) {
      const child = spawn(tempest, ['import', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      child.stdout.on('data', (data: Buffer) => (output += data.toString()));
      child.stderr.on('data', (data: Buffer) => (output += data.toString()));
      return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
    },
    async rowsCommitted(fraction, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      const wanted = fraction * this.totalRows;
      while ((await committedRows(this.db, taskInfo)) < wanted) {
        if (Date.now() > deadline) throw new Error(`fewer than ${Math.round(wanted)} rows were committed within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    committed() {
      return committedRows(this.db, taskInfo);
    },
    async killTemporal(downMs) {
      const pid = temporalPid(stateDir);
      assert.ok(pid !== undefined, 'the dev server of this test runs');
      process.kill(pid, 'SIGKILL');
      while (temporalPid(stateDir) === pid) await new Promise((resolve) => setTimeout(resolve, 50));
      await need(server, 'the Temporal server').stop(); // forgets it (it is gone already)
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await ensureDevServer({ stateDir, port: ports[0], uiPort: ports[1] });
      assert.ok(server.startedHere, 'a new server process was started on the same history file');
    },
    async assertTablesEqualReference() {
      for (const table of this.fixture.tables) {
        assert.deepEqual(await sortedRows(this.db, schema, table.name), await sortedRows(this.db, reference, table.name), `${table.name}: no row lost, none twice`);
      }
    },
  };
}

/** The dev server keeping its history under `stateDir`: the process this scenario started, found by its own path. */
function temporalPid(stateDir: string): number | undefined {
  const database = path.join(stateDir, 'temporal.sqlite');
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0');
      if (args.includes('start-dev') && args.includes(database) && !fs.readFileSync(`/proc/${entry}/stat`, 'latin1').includes(') Z ')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
