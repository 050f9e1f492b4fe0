/**
 * Scale: many tiny tables and one table of many files, Tempest against myloader on the same dump
 * and the same MariaDB. Entry point: `bash bench/scale.sh [options]` (installs myloader, builds,
 * then runs `node dist/bench/scale.js [options]`).
 *
 * Generates (once per options) a mydumper-layout dump: `--tables` tables of `--rows` rows, one
 * schema and one data file each, and one table `wide` of `--files` data files of `--rows` rows.
 * Tempest runs on a Temporal dev server of the bench's own with one `tempest worker` process, so
 * the worker's and the server's memory are measured apart. Prints wall time, tables/s, chunks/s,
 * the longest history and the largest history and payload of any workflow run (continued-as-new
 * runs included), and peak RSS of the worker and of the server.
 *
 * Options: --tables N (2000), --files M (1000), --rows R (5), --threads N (2), --tools tempest,myloader,
 * --dir DIR, --host, --port, --user, --password, --continue-as-new-after N (Tempest's default), --regenerate.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { findTemporalBinary } from '../client/temporal/temporal-binary';
import { freePort } from '../test/helpers/free-port';
import { historyStats } from './support/history-stats';
import { writeTempestConfig } from './support/tempest-config';

const { values: args } = parseArgs({
  options: {
    tables: { type: 'string', default: '2000' },
    files: { type: 'string', default: '1000' },
    rows: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    tools: { type: 'string', default: 'tempest,myloader' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'tempest-scale-dump') },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3306' },
    user: { type: 'string', default: 'root' },
    password: { type: 'string', default: '' },
    'continue-as-new-after': { type: 'string', default: '' },
    regenerate: { type: 'boolean', default: false },
  },
  strict: true,
});
const opt = {
  tables: Number(args.tables),
  files: Number(args.files),
  rows: Number(args.rows),
  threads: Number(args.threads),
  tools: args.tools!.split(','),
  dir: path.resolve(args.dir!),
  target: { host: args.host!, port: Number(args.port), user: args.user!, password: args.password! },
};
const sourceSchema = 'scale';
const log = (line: string) => process.stdout.write(`${line}\n`);
const repo = path.resolve(__dirname, '../..');

function generate(): void {
  const marker = path.join(opt.dir, 'bench-scale.json');
  const identity = JSON.stringify({ tables: opt.tables, files: opt.files, rows: opt.rows });
  if (!args.regenerate && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === identity) return;
  fs.rmSync(opt.dir, { recursive: true, force: true });
  fs.mkdirSync(opt.dir, { recursive: true });
  const write = (name: string, text: string) => fs.writeFileSync(path.join(opt.dir, name), text);
  // myloader refuses a folder without it.
  write('metadata', 'Started dump at: 2026-01-01 00:00:00\nFinished dump at: 2026-01-01 00:00:01\n');
  write(`${sourceSchema}-schema-create.sql`, `CREATE DATABASE \`${sourceSchema}\`;\n`);
  const rows = (first: number) => Array.from({ length: opt.rows }, (_, index) => `(${first + index},'row ${first + index}')`).join(',');
  for (let table = 0; table < opt.tables; table++) {
    const name = `t${String(table).padStart(5, '0')}`;
    write(`${sourceSchema}.${name}-schema.sql`, `CREATE TABLE \`${name}\` (id INT PRIMARY KEY, v VARCHAR(32));\n`);
    write(`${sourceSchema}.${name}.00000.sql`, `INSERT INTO \`${name}\` VALUES ${rows(1)};\n`);
  }
  write(`${sourceSchema}.wide-schema.sql`, 'CREATE TABLE `wide` (id INT PRIMARY KEY, v VARCHAR(32));\n');
  for (let file = 0; file < opt.files; file++) write(`${sourceSchema}.wide.${String(file).padStart(6, '0')}.sql`, `INSERT INTO \`wide\` VALUES ${rows(file * opt.rows + 1)};\n`);
  write('bench-scale.json', identity);
}

/** The peak resident memory of processes while they run, sampled from /proc (VmHWM). */
function peakRss(pids: () => Array<number | undefined>): { stop(): Record<number, number> } {
  const peaks: Record<number, number> = {};
  const sample = () => {
    for (const pid of pids()) {
      if (!pid) continue;
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (hwm) peaks[pid] = Math.max(peaks[pid] ?? 0, Number(hwm[1]) * 1024);
      } catch {
        // Gone.
      }
    }
  };
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return peaks;
    },
  };
}

async function waitForServer(address: string): Promise<Connection> {
  for (let tries = 0; ; tries++) {
    try {
      return await Connection.connect({ address, connectTimeout: 1000 });
    } catch (error) {
      if (tries > 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function run(command: string, argv: string[], logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, argv, { stdio: ['ignore', out, out], cwd: repo });
  fs.closeSync(out);
  return child;
}

const exited = (child: ChildProcess) => new Promise<number>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code ?? 1))));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function runTempest(database: string): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-scale-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = run(findTemporalBinary(), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--db-filename', path.join(stateDir, 'temporal.sqlite'), '--log-level', 'error'], path.join(stateDir, 'server.log'));
  const address = `127.0.0.1:${port}`;
  const connection = await waitForServer(address);
  const continueAfter = args['continue-as-new-after'] ? `continue-as-new-after = ${Number(args['continue-as-new-after'])}` : '';
  const config = await writeTempestConfig({
    writtenBy: 'bench/scale.ts',
    stateDir,
    target: opt.target,
    concurrency: opt.threads,
    taskInfoSchema: `${database}_info`,
    sourceDir: opt.dir,
    sourceSchema,
    targetSchema: database,
    checksum: 'required',
    analyze: 'off',
    logProgress: '10s',
    temporalAddress: address,
    temporal: continueAfter,
  });
  const worker = run(path.join(repo, 'bin/tempest'), ['worker', '-c', config.path], path.join(stateDir, 'worker.log'));
  const memory = peakRss(() => [worker.pid, server.pid]);
  const started = performance.now();
  const importing = run(path.join(repo, 'bin/tempest'), ['import', '-c', config.path], path.join(stateDir, 'import.log'));
  const code = await exited(importing);
  const seconds = (performance.now() - started) / 1000;
  const peaks = memory.stop();
  if (code !== 0) throw new Error(`tempest import exited ${code}: see ${stateDir}/import.log`);
  const client = new Client({ connection });
  const stats = await historyStats(client, 'tempest-import-');
  worker.kill('SIGTERM');
  await exited(worker);
  server.kill('SIGTERM');
  await connection.close();
  const chunks = opt.tables + opt.files;
  log(`tempest: ${seconds.toFixed(1)} s, ${(opt.tables / seconds).toFixed(0)} tables/s, ${(chunks / seconds).toFixed(0)} chunks/s (state: ${stateDir})`);
  log(`  workflow runs ${stats.runs}; longest history ${stats.longest.events} events (${stats.longest.workflowId}); largest history ${(stats.largest.bytes / 1024).toFixed(0)} KiB (${stats.largest.workflowId})`);
  log(`  largest payload ${(stats.largestPayload.bytes / 1024).toFixed(1)} KiB (${stats.largestPayload.event} in ${stats.largestPayload.workflowId})`);
  log(`  peak RSS: worker ${mib(peaks[worker.pid!] ?? 0)}, Temporal server ${mib(peaks[server.pid!] ?? 0)}`);
}

async function runMyloader(database: string): Promise<void> {
  const started = performance.now();
  const auth = ['-h', opt.target.host, '-P', String(opt.target.port), '-u', opt.target.user, ...(opt.target.password ? ['-p', opt.target.password] : [])];
  execFileSync('myloader', ['-d', opt.dir, '-t', String(opt.threads), ...auth, '-B', database, '-o', '-v', '1'], { stdio: 'inherit' });
  const seconds = (performance.now() - started) / 1000;
  log(`myloader: ${seconds.toFixed(1)} s, ${(opt.tables / seconds).toFixed(0)} tables/s, ${((opt.tables + opt.files) / seconds).toFixed(0)} chunks/s`);
}

async function main(): Promise<void> {
  generate();
  log(`dump: ${opt.tables} tables of ${opt.rows} rows, and one table of ${opt.files} files of ${opt.rows} rows, in ${opt.dir}`);
  const admin = await mysql.createConnection({ ...opt.target, multipleStatements: true });
  for (const tool of opt.tools) {
    const database = `bench_scale_${tool}`;
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\`; DROP DATABASE IF EXISTS \`${database}_info\``);
    if (tool === 'tempest') await runTempest(database);
    else if (tool === 'myloader') await runMyloader(database);
    else throw new Error(`--tools: unknown tool ${tool}`);
    const [tables] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [database]);
    const [wide] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.wide`);
    const expected = { tables: opt.tables + 1, wide: opt.files * opt.rows };
    const ok = Number(tables[0].n) === expected.tables && Number(wide[0].n) === expected.wide;
    log(`  check: ${tables[0].n} tables (expected ${expected.tables}), wide has ${wide[0].n} rows (expected ${expected.wide}): ${ok ? 'ok' : 'MISMATCH'}`);
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\`; DROP DATABASE IF EXISTS \`${database}_info\``);
  }
  await admin.end();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/scale: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
