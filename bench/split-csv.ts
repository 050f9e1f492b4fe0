/**
 * What `strict-format` splitting buys on one large CSV file: the same ~256 MiB file imported once
 * whole (strict-format off: one chunk, one session) and once cut into `max-region-size` pieces
 * (strict-format on: chunks imported region-concurrency at a time), each by `tempest import` on an
 * embedded Temporal dev server of its own, into a database of its own. Prints seconds, MB/s
 * (10^6 bytes of the file per second) and the ratio.
 *
 * Each mode runs `--rounds` times, in the order whole, split, split, whole, …, each after InnoDB has
 * written out the previous run's pages; the medians are compared.
 *
 * Run: `npm run build && node dist/bench/split-csv.js [--mib 256] [--region-mib 32] [--concurrency 2]
 *       [--rounds 2] [--dir DIR] [--host 127.0.0.1] [--port 3306] [--user root] [--password ''] [--keep]`
 * (needs the Temporal CLI binary that scripts/ensure-temporal.sh builds, and a MariaDB).
 */
import { seededRandom } from '../test/helpers/dump-fixture';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { median } from './support/median';
import { cpuSeconds, findMariadbd } from './support/processes';
import { quiesce } from './support/quiesce';
import { writeTempestConfig } from './support/tempest-config';

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    'region-mib': { type: 'string', default: '32' },
    concurrency: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'tempest-bench-split-csv') },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3306' },
    user: { type: 'string', default: 'root' },
    password: { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

const opt = {
  mib: positive('mib', args.mib!),
  regionMib: positive('region-mib', args['region-mib']!),
  concurrency: Math.trunc(positive('concurrency', args.concurrency!)),
  rounds: Math.trunc(positive('rounds', args.rounds!)),
  dir: path.resolve(args.dir!),
  host: args.host!,
  port: Math.trunc(positive('port', args.port!)),
  user: args.user!,
  password: args.password!,
  keep: args.keep!,
};

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`split-csv: --${name}: expected a positive number, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const SOURCE_DB = 'bench_split';
const TABLE = 'events';
const dataFile = path.join(opt.dir, `${SOURCE_DB}.${TABLE}.000000001.csv`);
const marker = path.join(opt.dir, 'bench-split.json');

const words = ['alpha', 'beta', 'gamma', 'storm', 'rain', 'Zürich', '東京', 'say "hi"', 'a,b', 'tab\there', 'O\'Brien'];

/** Writes the dump once (reused while the marker says the same size): a header, then rows until the size is reached. */
async function generate(): Promise<{ bytes: number; rows: number }> {
  const wanted = Math.round(opt.mib * 1024 * 1024);
  try {
    const known = JSON.parse(await fsp.readFile(marker, 'utf8')) as { bytes: number; rows: number; mib: number };
    if (known.mib === opt.mib && fs.statSync(dataFile).size === known.bytes) return known;
  } catch {
    // No dump yet, or another size: write it.
  }
  await fsp.mkdir(opt.dir, { recursive: true });
  await fsp.writeFile(path.join(opt.dir, `${SOURCE_DB}-schema-create.sql`), `CREATE DATABASE \`${SOURCE_DB}\`;\n`);
  await fsp.writeFile(
    path.join(opt.dir, `${SOURCE_DB}.${TABLE}-schema.sql`),
    `CREATE TABLE \`${TABLE}\` (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, amount DECIMAL(12,2), created DATETIME NOT NULL, note VARCHAR(255)) DEFAULT CHARSET=utf8mb4;\n`,
  );
  const out = fs.createWriteStream(dataFile);
  const next = seededRandom(20240601);
  let bytes = 0;
  let rows = 0;
  const header = 'id,name,amount,created,note\n';
  out.write(header);
  bytes += header.length;
  while (bytes < wanted) {
    let block = '';
    for (let i = 0; i < 2000; i++) {
      rows++;
      const note = next() < 0.1 ? '\\N' : `"${Array.from({ length: 1 + Math.floor(next() * 12) }, () => words[Math.floor(next() * words.length)]).join(' ').replace(/\\/g, '\\\\').replace(/"/g, '""')}"`;
      const created = new Date(Date.UTC(2020, 0, 1) + Math.floor(next() * 1.5e11)).toISOString().slice(0, 19).replace('T', ' ');
      block += `${rows},user_${Math.floor(next() * 1e6)},${next() < 0.05 ? '\\N' : (next() * 1e6 - 5e5).toFixed(2)},${created},${note}\n`;
    }
    const buffer = Buffer.from(block);
    bytes += buffer.length;
    if (!out.write(buffer)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const info = { mib: opt.mib, bytes, rows };
  await fsp.writeFile(marker, JSON.stringify(info));
  return info;
}

interface RunResult {
  seconds: number;
  /** CPU seconds (user + system) of the tempest process and of mariadbd during the run. */
  tempestCpu: number;
  mariadbCpu: number;
  /** From the task's start (dev server and worker up, the "task …" line) to the process's end. */
  importSeconds: number;
}

/** One `tempest import` of the dump into `database`, strict-format on or off; returns its wall-clock times. */
async function runImport(database: string, split: boolean): Promise<RunResult> {
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tempest-bench-split-state-'));
  const taskInfo = `${database}_task_info`;
  const { path: configPath } = await writeTempestConfig({
    writtenBy: 'bench/split-csv.ts',
    stateDir,
    target: opt,
    concurrency: opt.concurrency,
    taskInfoSchema: taskInfo,
    sourceDir: opt.dir,
    sourceSchema: SOURCE_DB,
    targetSchema: database,
    importer: 'on-duplicate = "error"',
    mydumper: `strict-format = ${split}\nmax-region-size = "${opt.regionMib}MiB"`,
    checksum: 'required',
    analyze: 'off',
    logProgress: '10s',
  });
  const mariadbd = findMariadbd();
  const mariadbBefore = cpuSeconds(mariadbd);
  const started = performance.now();
  let taskStarted: number | undefined;
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'client', 'main.js'), 'import', '-c', configPath], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  // A process's CPU time cannot be read after it exits: sample it while it runs.
  let tempestCpu = 0;
  const sampler = setInterval(() => (tempestCpu = Math.max(tempestCpu, cpuSeconds(child.pid))), 200);
  let pending = '';
  child.stdout.on('data', (data: Buffer) => {
    pending += data.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (taskStarted === undefined && line.startsWith('task ')) taskStarted = performance.now();
      console.log(`  ${split ? 'split' : 'whole'} | ${line}`);
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const ended = performance.now();
  clearInterval(sampler);
  const mariadbCpu = cpuSeconds(mariadbd) - mariadbBefore;
  if (code !== 0) throw new Error(`tempest import (${split ? 'split' : 'whole'}) exited with code ${code}; its state is in ${stateDir}`);
  await fsp.rm(stateDir, { recursive: true, force: true });
  return { seconds: (ended - started) / 1000, importSeconds: (ended - (taskStarted ?? started)) / 1000, tempestCpu, mariadbCpu };
}

async function countRows(admin: Connection, database: string): Promise<number> {
  const [rows] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.\`${TABLE}\``);
  return Number(rows[0].n);
}

async function main(): Promise<void> {
  console.log(`generating (or reusing) a ${opt.mib} MiB CSV in ${opt.dir} …`);
  const dump = await generate();
  console.log(`${dataFile}: ${dump.bytes} bytes, ${dump.rows} rows`);
  const admin = await mysql.createConnection({ host: opt.host, port: opt.port, user: opt.user, password: opt.password });
  const chunks = Math.ceil(dump.bytes / (opt.regionMib * 1024 * 1024));
  const runs: Record<'whole' | 'split', RunResult[]> = { whole: [], split: [] };
  // Whole, split, split, whole, …: a drift over time (caches, the disk) weighs on both alike.
  const order = Array.from({ length: opt.rounds }, (_, round) => (round % 2 === 0 ? (['whole', 'split'] as const) : (['split', 'whole'] as const))).flat();
  try {
    for (const mode of order) {
      const database = `bench_split_${mode}`;
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin.query(`DROP DATABASE IF EXISTS \`${database}_task_info\``);
      await quiesce(admin);
      console.log(`\nimporting ${mode === 'split' ? `split (strict-format = true, max-region-size = ${opt.regionMib} MiB)` : 'whole (strict-format = false)'}, region-concurrency ${opt.concurrency} …`);
      const result = await runImport(database, mode === 'split');
      const rows = await countRows(admin, database);
      if (rows !== dump.rows) throw new Error(`${database}: ${rows} rows imported, ${dump.rows} expected`);
      runs[mode].push(result);
      console.log(`  ${mode}: ${result.seconds.toFixed(1)} s`);
      if (!opt.keep) {
        await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
        await admin.query(`DROP DATABASE IF EXISTS \`${database}_task_info\``);
      }
    }
  } finally {
    await admin.end();
  }
  const mbps = (seconds: number) => (dump.bytes / seconds / 1e6).toFixed(1);
  console.log(`\n${(dump.bytes / 1e6).toFixed(1)} MB CSV, ${dump.rows} rows, region-concurrency ${opt.concurrency}, checksum "required"; median of ${opt.rounds} runs each`);
  console.log('run                                  total s   MB/s   import s   MB/s   tempest CPU s   mariadbd CPU s   (every run\'s total s)');
  const summary = (mode: 'whole' | 'split') => {
    const results = runs[mode];
    return { seconds: median(results.map((r) => r.seconds)), importSeconds: median(results.map((r) => r.importSeconds)), tempestCpu: median(results.map((r) => r.tempestCpu)), mariadbCpu: median(results.map((r) => r.mariadbCpu)) };
  };
  for (const mode of ['whole', 'split'] as const) {
    const result = summary(mode);
    const label = mode === 'whole' ? 'whole (1 chunk)' : `split (${chunks} chunks of ≤ ${opt.regionMib} MiB)`;
    console.log(
      `${label.padEnd(36)} ${result.seconds.toFixed(1).padStart(7)} ${mbps(result.seconds).padStart(6)} ${result.importSeconds.toFixed(1).padStart(10)} ${mbps(result.importSeconds).padStart(6)}` +
        `${result.tempestCpu.toFixed(1).padStart(16)} ${result.mariadbCpu.toFixed(1).padStart(16)}   (${runs[mode].map((r) => r.seconds.toFixed(1)).join(', ')})`,
    );
  }
  const [whole, split] = [summary('whole'), summary('split')];
  console.log(`split / whole speed: ${(whole.seconds / split.seconds).toFixed(2)}× total, ${(whole.importSeconds / split.importSeconds).toFixed(2)}× import phase`);
  console.log("(total: the whole command, with starting the Temporal dev server and the worker; import phase: from the task's start to the end;");
  console.log(` CPU: ${os.availableParallelism()} cores here — once tempest and mariadbd fill them, more chunks at once cannot go faster)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
