/**
 * Import speed: Tempest against myloader and the `mariadb` client, on the same dump and the same
 * MariaDB, in one run. Entry point: `bash bench/import-speed.sh [options]` (installs myloader,
 * builds, then runs `node dist/bench/import-speed.js [options]`).
 *
 * 1. Generates, once, a mydumper-layout SQL dump of `--mib` MiB (seeded, streamed to disk) into
 *    `--dir`, reused on later runs while its marker file `bench-dump.json` matches the options.
 * 2. Loads it three times, one after the other, each into a fresh database of its own:
 *    myloader with `--threads` threads, the `mariadb` client as one stream (it has no concurrency),
 *    and `tempest import` with region- and table-concurrency = `--threads`, checksum "required" by default (--checksum),
 *    on an embedded Temporal dev server of its own. Before each load InnoDB writes out what the
 *    previous one left dirty (bench/support/quiesce.ts), so no load pays for another.
 * 3. After each load checks every table's row count against the generated counts, then prints
 *    seconds, MB/s (10^6 bytes of data files per second), rows/s, the CPU time of the loader and of
 *    mariadbd, how many target sessions were busy, and finally a table with Tempest's ratios.
 *
 * Options: --dir DIR, --mib N (256), --file-mib N (32: target size of one data file), --seed N,
 * --threads N (2), --tools myloader,mariadb,tempest (also tempest-insert: Tempest with logical-import-method "insert"; a tool may be named twice), --host, --port, --user, --password,
 * --db-prefix (bench_speed_), --on-duplicate error|replace|ignore (error: plain INSERT, like the others),
 * --analyze off|optional|required (off: the others do not analyze either), --checksum required|optional|off
 * (required: Tempest verifies every table, which the others do not do), --rounds N (1: the tool list
 * is run N times over; ratios then compare median times, since one machine's timings vary), --batch-size SIZE
 * (Tempest's logical-import-batch-size, default Tempest's own), --tempest-node-args "ARGS"
 * (write it with "=": --tempest-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"), --keep (leave the databases), --regenerate,
 * --split-cores (the local mariadbd on the upper half of the cores, the loaders on the lower half, as
 * when the importer runs on another host: see bench/support/split-cores.ts; it gets its cores back at the end),
 * --tidb (the target is a tidb-server of the run's own, unistore on free ports, instead of --host/--port;
 * tool `lightning` is stock tidb-lightning in logical mode, backend "tidb", both built by
 * scripts/ensure-tidb.sh: `--tidb --tools lightning,tempest --rounds 3` compares the two, interleaved).
 */
import { seededRandom as prng } from '../test/helpers/dump-fixture';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { median } from './support/median';
import { CLK_TCK, cpuSeconds, findMariadbd, machineBusySeconds, readStat, readWriteBytes, type ProcStat } from './support/processes';
import { quiesce } from './support/quiesce';
import { splitCores, type CoreSplit } from './support/split-cores';
import { writeTempestConfig } from './support/tempest-config';
import { startTidbServer, tidbBinDir, type TidbServer } from '../test/helpers/tidb-server';

// ---------------------------------------------------------------------------------------------
// Options

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: path.join(os.tmpdir(), 'tempest-bench-dump') },
    mib: { type: 'string', default: '256' },
    'file-mib': { type: 'string', default: '32' },
    seed: { type: 'string', default: '20240601' },
    threads: { type: 'string', default: '2' },
    tools: { type: 'string', default: 'myloader,mariadb,tempest' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3306' },
    user: { type: 'string', default: 'root' },
    password: { type: 'string', default: '' },
    'db-prefix': { type: 'string', default: 'bench_speed_' },
    'on-duplicate': { type: 'string', default: 'error' },
    analyze: { type: 'string', default: 'off' },
    checksum: { type: 'string', default: 'required' },
    rounds: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '' },
    'tempest-node-args': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
    'split-cores': { type: 'boolean', default: false },
    regenerate: { type: 'boolean', default: false },
    tidb: { type: 'boolean', default: false },
  },
  strict: true,
});

const opt = {
  dir: path.resolve(args.dir!),
  mib: positive('mib', args.mib!),
  fileMib: positive('file-mib', args['file-mib']!),
  seed: Math.trunc(Number(args.seed)) >>> 0,
  threads: Math.trunc(positive('threads', args.threads!)),
  tools: args.tools!.split(',').map((tool) => tool.trim()).filter(Boolean),
  host: args.host!,
  port: Math.trunc(positive('port', args.port!)),
  user: args.user!,
  password: args.password!,
  dbPrefix: args['db-prefix']!,
  onDuplicate: args['on-duplicate']!,
  analyze: args.analyze!,
  checksum: args.checksum!,
  rounds: Math.trunc(positive('rounds', args.rounds!)),
  batchSize: args['batch-size']!,
  tempestNodeArgs: args['tempest-node-args']!.split(/\s+/).filter(Boolean),
  keep: args.keep!,
  regenerate: args.regenerate!,
  splitCores: args['split-cores']!,
  tidb: args.tidb!,
};
for (const tool of opt.tools) if (!['myloader', 'mariadb', 'tempest', 'tempest-insert', 'lightning'].includes(tool)) fail(`--tools: unknown tool "${tool}"`);
if (opt.tidb && opt.splitCores) fail('--split-cores pins the local mariadbd: not with --tidb');
if (!['error', 'replace', 'ignore'].includes(opt.onDuplicate)) fail('--on-duplicate: error, replace or ignore');
if (!['off', 'optional', 'required'].includes(opt.analyze)) fail('--analyze: off, optional or required');

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) fail(`--${name}: expected a positive number, got "${text}"`);
  return value;
}

function fail(message: string): never {
  console.error(`import-speed: ${message}`);
  process.exit(2);
}

const repoRoot = path.resolve(__dirname, '..', '..');
const log = (line: string) => console.log(line);

// ---------------------------------------------------------------------------------------------
// The dump

const DUMP_FORMAT = 1;
const MARKER = 'bench-dump.json';
const SOURCE_DB = 'bench';
const STATEMENT_BYTES = 1024 * 1024;

interface TableSpec {
  name: string;
  /** Share of the dump's bytes. */
  share: number;
  schema: string;
  row: (next: () => number, index: number) => string;
}

interface DumpInfo {
  format: number;
  mib: number;
  fileMib: number;
  seed: number;
  tables: Array<{ name: string; rows: number; files: string[]; bytes: number }>;
  dataBytes: number;
  rows: number;
}


const WORDS = [
  'alpha', 'beta', 'gamma', 'delta', 'tempest', 'lightning', 'storm', 'rain', 'cloud', 'wind', 'thunder', 'drizzle',
  'Zürich', '東京', 'café', 'naïve', 'Ελλάδα', '😀', 'O\'Brien', 'say "hi"', 'C:\\temp', 'a;b', 'x,y', '(paren)', 'tab\there',
];
const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR'];
const EPOCH_2020 = Date.UTC(2020, 0, 1) / 1000;

const pick = <T>(next: () => number, list: readonly T[]): T => list[Math.floor(next() * list.length)];
const int = (next: () => number, lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));

/** mydumper's escaping (mysql_real_escape_string), in single quotes. */
function quote(text: string): string {
  return `'${text.replace(/[\0\n\r\\'"\x1a]/g, (c) => ({ '\0': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '"': '\\"', '\x1a': '\\Z' })[c]!)}'`;
}

function words(next: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(pick(next, WORDS));
  return out.join(' ');
}

function datetime(next: () => number): string {
  const d = new Date((EPOCH_2020 + Math.floor(next() * 4 * 365 * 86400)) * 1000);
  return `'${d.toISOString().slice(0, 19).replace('T', ' ')}'`;
}

function decimal(next: () => number, intDigits: number, scale: number, signed: boolean): string {
  const whole = Math.floor(next() * 10 ** intDigits);
  const frac = String(Math.floor(next() * 10 ** scale)).padStart(scale, '0');
  return `${signed && next() < 0.2 ? '-' : ''}${whole}.${frac}`;
}

const TABLES: TableSpec[] = [
  {
    name: 't1',
    share: 0.55,
    schema: `CREATE TABLE \`t1\` (
  \`id\` bigint(20) NOT NULL,
  \`user_id\` int(11) NOT NULL,
  \`qty\` smallint(6) DEFAULT NULL,
  \`amount\` decimal(12,2) NOT NULL,
  \`rate\` decimal(18,6) DEFAULT NULL,
  \`name\` varchar(64) NOT NULL,
  \`note\` varchar(255) DEFAULT NULL,
  \`created_at\` datetime NOT NULL,
  \`updated_at\` datetime DEFAULT NULL,
  \`body\` text DEFAULT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
    row: (next, index) => {
      const r = next();
      const note = r < 0.1 ? 'NULL' : r < 0.2 ? quote('it\'s "quoted", with a\nnewline, a \\ backslash and a \r return') : quote(words(next, int(next, 1, 8)));
      const body = next() < 0.05 ? 'NULL' : quote(words(next, int(next, 20, 90)));
      return `(${index + 1},${int(next, 1, 2_000_000)},${next() < 0.1 ? 'NULL' : int(next, -32768, 32767)},${decimal(next, 9, 2, true)},${
        next() < 0.1 ? 'NULL' : decimal(next, 11, 6, true)
      },${quote(pick(next, WORDS) + index)},${note},${datetime(next)},${next() < 0.3 ? 'NULL' : datetime(next)},${body})`;
    },
  },
  {
    name: 't2',
    share: 0.3,
    schema: `CREATE TABLE \`t2\` (
  \`ts\` datetime NOT NULL,
  \`level\` varchar(8) NOT NULL,
  \`host\` varchar(32) NOT NULL,
  \`user_id\` int(11) DEFAULT NULL,
  \`latency_ms\` int(10) unsigned DEFAULT NULL,
  \`cost\` decimal(10,4) DEFAULT NULL,
  \`message\` varchar(512) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
    row: (next) =>
      `(${datetime(next)},${quote(pick(next, LEVELS))},${quote(`web-${int(next, 1, 40)}.example`)},${next() < 0.2 ? 'NULL' : int(next, 1, 2_000_000)},${int(
        next,
        0,
        60_000,
      )},${next() < 0.3 ? 'NULL' : decimal(next, 6, 4, false)},${quote(words(next, int(next, 3, 20)))})`,
  },
  {
    name: 't3',
    share: 0.15,
    schema: `CREATE TABLE \`t3\` (
  \`order_id\` bigint(20) NOT NULL,
  \`line_no\` smallint(6) NOT NULL,
  \`sku\` varchar(16) NOT NULL,
  \`price\` decimal(10,2) NOT NULL,
  \`qty\` int(11) NOT NULL,
  PRIMARY KEY (\`order_id\`,\`line_no\`),
  KEY \`sku\` (\`sku\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
    // Orders of four lines each: (order, line) from the row index.
    row: (next, index) => `(${Math.floor(index / 4) + 1},${(index % 4) + 1},${quote(`SKU-${int(next, 1, 50_000)}`)},${decimal(next, 6, 2, false)},${int(next, 1, 99)})`,
  },
];

const FILE_HEADER = "/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n";

async function ensureDump(): Promise<DumpInfo> {
  const markerPath = path.join(opt.dir, MARKER);
  if (!opt.regenerate && fs.existsSync(markerPath)) {
    const info = JSON.parse(fs.readFileSync(markerPath, 'utf8')) as DumpInfo;
    const complete = info.tables.every((table) => table.files.every((file) => fs.existsSync(path.join(opt.dir, file))));
    if (info.format === DUMP_FORMAT && info.mib === opt.mib && info.fileMib === opt.fileMib && info.seed === opt.seed && complete) {
      log(`dump: reusing ${opt.dir} (${mb(info.dataBytes)} MB of data files, ${info.rows} rows)`);
      return info;
    }
  }
  return generateDump();
}

async function generateDump(): Promise<DumpInfo> {
  const started = Date.now();
  await fsp.mkdir(opt.dir, { recursive: true });
  // Only our own files are removed: the folder might be shared with something else.
  for (const name of await fsp.readdir(opt.dir)) {
    if (name === MARKER || name === 'metadata' || name.startsWith(`${SOURCE_DB}.`) || name.startsWith(`${SOURCE_DB}-`)) await fsp.rm(path.join(opt.dir, name));
  }
  log(`dump: generating ${opt.mib} MiB into ${opt.dir} (seed ${opt.seed})`);
  const startedAt = new Date();
  await fsp.writeFile(path.join(opt.dir, `${SOURCE_DB}-schema-create.sql`), `CREATE DATABASE \`${SOURCE_DB}\` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n`);
  const next = prng(opt.seed);
  const totalBytes = opt.mib * 1024 * 1024;
  const fileBytes = opt.fileMib * 1024 * 1024;
  const info: DumpInfo = { format: DUMP_FORMAT, mib: opt.mib, fileMib: opt.fileMib, seed: opt.seed, tables: [], dataBytes: 0, rows: 0 };
  for (const table of TABLES) {
    await fsp.writeFile(path.join(opt.dir, `${SOURCE_DB}.${table.name}-schema.sql`), `/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n\n${table.schema};\n`);
    const tableBytes = Math.ceil(totalBytes * table.share);
    // At least two files per table, so every table can be loaded by two threads.
    const fileCount = Math.max(2, Math.round(tableBytes / fileBytes));
    const perFile = Math.ceil(tableBytes / fileCount);
    const entry = { name: table.name, rows: 0, files: [] as string[], bytes: 0 };
    for (let f = 1; f <= fileCount; f++) {
      const name = `${SOURCE_DB}.${table.name}.${String(f).padStart(5, '0')}.sql`;
      const bytes = await writeDataFile(path.join(opt.dir, name), table, next, entry.rows, perFile, (rows) => (entry.rows += rows));
      entry.files.push(name);
      entry.bytes += bytes;
    }
    info.tables.push(entry);
    info.dataBytes += entry.bytes;
    info.rows += entry.rows;
    log(`dump: ${SOURCE_DB}.${table.name}: ${entry.files.length} files, ${mb(entry.bytes)} MB, ${entry.rows} rows`);
  }
  // myloader 0.10 refuses a folder without it ("the specified directory is not a mydumper backup").
  await fsp.writeFile(
    path.join(opt.dir, 'metadata'),
    `Started dump at: ${stamp(startedAt)}\nSHOW MASTER STATUS:\n\tLog: \n\tPos: \n\tGTID:\n\nFinished dump at: ${stamp(new Date())}\n`,
  );
  await fsp.writeFile(`${path.join(opt.dir, MARKER)}.tmp`, JSON.stringify(info, null, 2) + '\n');
  await fsp.rename(`${path.join(opt.dir, MARKER)}.tmp`, path.join(opt.dir, MARKER));
  log(`dump: ${mb(info.dataBytes)} MB, ${info.rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return info;
}

/** Writes one data file of about `targetBytes`: multi-row INSERTs of about 1 MiB, streamed. Returns its size. */
async function writeDataFile(
  file: string,
  table: TableSpec,
  next: () => number,
  firstIndex: number,
  targetBytes: number,
  countRows: (rows: number) => void,
): Promise<number> {
  const out = fs.createWriteStream(file);
  const write = async (text: string): Promise<number> => {
    const buffer = Buffer.from(text, 'utf8');
    if (!out.write(buffer)) await once(out, 'drain');
    return buffer.length;
  };
  let written = await write(FILE_HEADER);
  let index = firstIndex;
  const head = `INSERT INTO \`${table.name}\` VALUES\n`;
  while (written < targetBytes) {
    const rows: string[] = [];
    let bytes = head.length + 2;
    while (bytes < STATEMENT_BYTES && written + bytes < targetBytes) {
      const row = table.row(next, index++);
      rows.push(row);
      bytes += Buffer.byteLength(row) + 2;
    }
    written += await write(head + rows.join(',\n') + ';\n');
    countRows(rows.length);
  }
  out.end();
  await once(out, 'finish');
  return written;
}

function stamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

// ---------------------------------------------------------------------------------------------
// Measuring a load

interface LoadResult {
  tool: string;
  concurrency: string;
  seconds: number;
  toolCpu: Record<string, number>;
  mariadbCpu: number;
  mariadbWriteMB: number;
  /** Busy CPU seconds of every other process on the machine during the load (other jobs disturb the figures). */
  otherCpu: number;
  milestones: Record<string, number>;
  busyMean: number;
  busyMax: number;
  note?: string;
}

/** CPU seconds of a process tree, by command name, sampled from /proc (pidstat without pidstat). */
class TreeCpu {
  private readonly last = new Map<string, { comm: string; ticks: number }>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly root: number) {
    this.timer = setInterval(() => this.sample(), 250);
    this.sample();
  }

  sample(): void {
    const children = new Map<number, ProcStat[]>();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(entry);
      if (!stat) continue;
      const list = children.get(stat.ppid) ?? [];
      list.push(stat);
      children.set(stat.ppid, list);
    }
    const rootStat = readStat(this.root);
    const queue = rootStat ? [rootStat] : [];
    while (queue.length > 0) {
      const stat = queue.shift()!;
      this.last.set(`${stat.pid}/${stat.start}`, { comm: stat.comm, ticks: stat.ticks });
      queue.push(...(children.get(stat.pid) ?? []));
    }
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    const byComm: Record<string, number> = {};
    for (const { comm, ticks } of this.last.values()) byComm[comm] = (byComm[comm] ?? 0) + ticks / CLK_TCK;
    return byComm;
  }
}

/** How many target sessions are executing a statement on the load's database, sampled 4 times a second. */
class BusySessions {
  private samples: number[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(connection: Connection, database: string) {
    const pattern = `%\`${database}\`.%`;
    this.done = (async () => {
      while (!this.stopped) {
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
            WHERE ID <> CONNECTION_ID() AND COMMAND = 'Query' AND (DB = ? OR LEFT(INFO, 512) LIKE ?)`,
          [database, pattern],
        );
        this.samples.push(Number(rows[0].n));
        await sleep(250);
      }
    })();
  }

  async stop(): Promise<{ mean: number; max: number }> {
    this.stopped = true;
    await this.done;
    const busy = this.samples;
    return { mean: busy.length ? busy.reduce((a, b) => a + b, 0) / busy.length : 0, max: busy.length ? Math.max(...busy) : 0 };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RunOptions {
  tool: string;
  concurrency: string;
  database: string;
  command: string;
  argv: string[];
  /** Fed to the child's stdin, then stdin is closed. */
  stdin?: (stdin: NodeJS.WritableStream) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  /** Print the child's output lines as they come, prefixed with the elapsed time. */
  echo: boolean;
  /** Lines whose first appearance is timed (seconds since the start), by name. */
  milestones?: Record<string, RegExp>;
}

async function timedRun(run: RunOptions): Promise<LoadResult> {
  const sampler = await mysql.createConnection(connectionOptions());
  // tidb-server keeps a fresh unistore in memory: no InnoDB pages to write out.
  if (!tidb) await quiesce(sampler);
  const mariadbd = tidb ? tidb.pid : findMariadbd();
  const mariadbBefore = cpuSeconds(mariadbd);
  const writeBefore = mariadbd ? readWriteBytes(mariadbd) : 0;
  const machineBefore = machineBusySeconds();
  const busy = new BusySessions(sampler, run.database);
  log(`\n== ${run.tool}: ${[run.command, ...run.argv].join(' ')}`);

  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  const { command, argv } = coreSplit ? coreSplit.onLoaderCores(run.command, run.argv) : run;
  const child = spawn(command, argv, { cwd: repoRoot, env: run.env ?? process.env, stdio: [run.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const cpu = new TreeCpu(child.pid!);
  const tail: string[] = [];
  const milestones: Record<string, number> = {};
  const onLine = (line: string) => {
    for (const [name, pattern] of Object.entries(run.milestones ?? {})) if (!(name in milestones) && pattern.test(line)) milestones[name] = elapsed();
    tail.push(line);
    if (tail.length > 40) tail.shift();
    if (run.echo) log(`  [${elapsed().toFixed(1).padStart(6)} s] ${line}`);
  };
  lines(child.stdout!, onLine);
  lines(child.stderr!, onLine);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  if (run.stdin) {
    await run.stdin(child.stdin!).catch((error: unknown) => {
      child.kill('SIGTERM');
      throw error;
    });
    child.stdin!.end();
  }
  const code = await exited;
  const seconds = elapsed();
  const toolCpu = cpu.stop();
  const sessions = await busy.stop();
  await sampler.end();
  const mariadbCpu = mariadbd ? cpuSeconds(mariadbd) - mariadbBefore : NaN;
  const mariadbWriteMB = mariadbd ? (readWriteBytes(mariadbd) - writeBefore) / 1e6 : NaN;
  const otherCpu = machineBusySeconds() - machineBefore - mariadbCpu - Object.values(toolCpu).reduce((a, b) => a + b, 0);
  if (code !== 0) {
    if (!run.echo) for (const line of tail) log(`  ${line}`);
    throw new Error(`${run.tool} exited with code ${code} after ${seconds.toFixed(1)} s`);
  }
  return { tool: run.tool, concurrency: run.concurrency, seconds, toolCpu, mariadbCpu, mariadbWriteMB, otherCpu, milestones, busyMean: sessions.mean, busyMax: sessions.max };
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    pending += text;
    let at: number;
    while ((at = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, at).replace(/\r/g, ''));
      pending = pending.slice(at + 1);
    }
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
}

// ---------------------------------------------------------------------------------------------
// The three loads

function connectionOptions(database?: string): mysql.ConnectionOptions {
  return { host: opt.host, port: opt.port, user: opt.user, password: opt.password, database, supportBigNumbers: true, bigNumberStrings: true };
}

function clientAuth(): string[] {
  return ['-h', opt.host, '-P', String(opt.port), '-u', opt.user, ...(opt.password ? [`-p${opt.password}`] : [])];
}

async function dropDatabase(admin: Connection, database: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
}

async function checkRows(admin: Connection, database: string, dump: DumpInfo, tool: string): Promise<void> {
  const problems: string[] = [];
  for (const table of dump.tables) {
    try {
      const [rows] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.\`${table.name}\``);
      const count = Number(rows[0].n);
      if (count !== table.rows) problems.push(`${database}.${table.name} has ${count} rows, the dump ${table.rows}`);
    } catch (error) {
      problems.push(`${database}.${table.name}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new Error(`${tool}: ROW COUNT CHECK FAILED: ${problems.join('; ')}`);
  log(`  row counts: all ${dump.tables.length} tables match the dump (${dump.rows} rows)`);
}

async function loadMyloader(admin: Connection, dump: DumpInfo): Promise<LoadResult> {
  const database = `${opt.dbPrefix}myloader`;
  await dropDatabase(admin, database);
  const version = execFileSync('myloader', ['--version']).toString().trim();
  log(`\n${version}`);
  const result = await timedRun({
    tool: 'myloader',
    concurrency: `${opt.threads} threads`,
    database,
    command: 'myloader',
    // -o: drop tables that exist; -B: the database to load into (created if need be); -v 2: warnings.
    argv: ['-d', opt.dir, '-t', String(opt.threads), ...clientAuth(), '-B', database, '-o', '-v', '2'],
    echo: true,
  });
  await checkRows(admin, database, dump, 'myloader');
  return { ...result, note: `${version}; flags -t ${opt.threads} -B ${database} -o (default -q 1000 queries per transaction)` };
}

async function loadMariadbClient(admin: Connection, dump: DumpInfo): Promise<LoadResult> {
  const database = `${opt.dbPrefix}mariadb`;
  await dropDatabase(admin, database);
  await admin.query(`CREATE DATABASE \`${database}\``);
  const files: string[] = [];
  for (const table of dump.tables) files.push(`${SOURCE_DB}.${table.name}-schema.sql`, ...table.files);
  const result = await timedRun({
    tool: 'mariadb client',
    concurrency: '1 stream',
    database,
    command: 'mariadb',
    argv: [...clientAuth(), database],
    stdin: async (stdin) => {
      for (const file of files) {
        for await (const chunk of fs.createReadStream(path.join(opt.dir, file), { highWaterMark: 1024 * 1024 })) {
          if (!stdin.write(chunk)) await once(stdin, 'drain');
        }
      }
    },
    echo: true,
  });
  await checkRows(admin, database, dump, 'mariadb client');
  return { ...result, note: 'schema then every data file piped into one `mariadb` session (autocommit: one commit per 1 MiB INSERT); it has no concurrency' };
}

async function loadLightning(admin: Connection, dump: DumpInfo): Promise<LoadResult> {
  if (!tidb) fail('tool lightning needs --tidb: Lightning\'s logical mode does not run on MariaDB');
  const database = `${opt.dbPrefix}lightning`;
  const taskInfo = `${opt.dbPrefix}lightning_task_info`;
  await dropDatabase(admin, database);
  await dropDatabase(admin, taskInfo);
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tempest-bench-lightning-'));
  const binary = path.join(tidbBinDir(), 'tidb-lightning');
  const version = execFileSync(binary, ['-V']).toString().split('\n').find((line) => /Release Version/.test(line))?.trim() ?? 'tidb-lightning';
  // The same work as Tempest's run: same concurrency, same routes, a file checkpoint; Lightning's
  // logical mode verifies nothing (its checksum is a physical-mode step), so checksum is off.
  const configPath = path.join(stateDir, 'tidb-lightning.toml');
  const toml = `# Written by bench/import-speed.ts
[lightning]
level = "warn"
file = ${JSON.stringify(path.join(stateDir, 'lightning.log'))}
region-concurrency = ${opt.threads}
table-concurrency = ${opt.threads}
check-requirements = false
task-info-schema-name = ${JSON.stringify(taskInfo)}

[checkpoint]
enable = true
driver = "file"
dsn = ${JSON.stringify(path.join(stateDir, 'checkpoint.pb'))}

[tikv-importer]
backend = "tidb"
on-duplicate = ${JSON.stringify(opt.onDuplicate)}

[mydumper]
data-source-dir = ${JSON.stringify(opt.dir)}

[tidb]
host = ${JSON.stringify(opt.host)}
port = ${opt.port}
user = ${JSON.stringify(opt.user)}
password = ${JSON.stringify(opt.password)}
status-port = ${tidb.statusPort}

[[routes]]
schema-pattern = ${JSON.stringify(SOURCE_DB)}
target-schema = ${JSON.stringify(database)}

[post-restore]
checksum = "off"
analyze = ${JSON.stringify(opt.analyze)}
`;
  await fsp.writeFile(configPath, toml);
  log(`\nlightning config ${configPath}:\n${toml.replace(/^/gm, '  | ')}`);
  try {
    const result = await timedRun({ tool: 'lightning', concurrency: `region ${opt.threads}, table ${opt.threads}`, database, command: binary, argv: ['-config', configPath], echo: true });
    await checkRows(admin, database, dump, 'lightning');
    return { ...result, note: `${version}; logical mode (backend "tidb"), on-duplicate "${opt.onDuplicate}", analyze "${opt.analyze}", file checkpoint; verifies nothing` };
  } finally {
    if (!opt.keep) await dropDatabase(admin, taskInfo);
    await fsp.rm(stateDir, { recursive: true, force: true });
  }
}

async function loadTempest(admin: Connection, dump: DumpInfo, method: 'auto' | 'insert'): Promise<LoadResult> {
  const database = `${opt.dbPrefix}tempest`;
  const taskInfo = `${opt.dbPrefix}tempest_task_info`;
  await dropDatabase(admin, database);
  await dropDatabase(admin, taskInfo);
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tempest-bench-state-'));
  const { path: configPath, toml } = await writeTempestConfig({
    writtenBy: 'bench/import-speed.ts',
    stateDir,
    target: opt,
    concurrency: opt.threads,
    taskInfoSchema: taskInfo,
    sourceDir: opt.dir,
    sourceSchema: SOURCE_DB,
    targetSchema: database,
    importer: [`on-duplicate = ${JSON.stringify(opt.onDuplicate)}`, `logical-import-method = "${method}"`, ...(opt.batchSize ? [`logical-import-batch-size = ${JSON.stringify(opt.batchSize)}`] : [])].join('\n'),
    checksum: opt.checksum,
    analyze: opt.analyze,
    logProgress: '5s',
  });
  log(`\ntempest config ${configPath}:\n${toml.replace(/^/gm, '  | ')}`);
  try {
    const result = await timedRun({
      tool: method === 'insert' ? 'tempest (insert)' : 'tempest',
      concurrency: `region ${opt.threads}, table ${opt.threads}`,
      database,
      command: process.execPath,
      // As bin/tempest runs it (its shebang line gives node the same flag).
      argv: ['--max-semi-space-size=64', ...opt.tempestNodeArgs, path.join(repoRoot, 'dist', 'client', 'main.js'), 'import', '-c', configPath],
      echo: true,
      milestones: { started: /^task /, importing: /progress: importing/, lastTable: /^import finished/ },
    });
    await checkRows(admin, database, dump, 'tempest');
    const m = result.milestones;
    const phases =
      m.started !== undefined && m.lastTable !== undefined
        ? `; phases: ${m.started.toFixed(1)} s until the task started (dev server, worker, workflow bundle), ` +
          `${(m.lastTable - m.started).toFixed(1)} s planning+importing+verifying, ${(result.seconds - m.lastTable).toFixed(1)} s shutting down`
        : '';
    return {
      ...result,
      note: `logical-import-method "${method}", checksum "${opt.checksum}", analyze "${opt.analyze}", on-duplicate "${opt.onDuplicate}"${opt.batchSize ? `, logical-import-batch-size ${opt.batchSize}` : ''}; time includes starting Temporal and the worker${phases}`,
    };
  } finally {
    if (!opt.keep) await dropDatabase(admin, taskInfo);
    if (opt.tempestNodeArgs.length === 0) await fsp.rm(stateDir, { recursive: true, force: true });
    else log(`  state dir kept (node args given): ${stateDir}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function report(dump: DumpInfo, results: LoadResult[]): void {
  const medians = new Map<string, number>();
  for (const tool of new Set(results.map((result) => result.tool))) medians.set(tool, median(results.filter((result) => result.tool === tool).map((result) => result.seconds)));
  const tempest = medians.get('tempest');
  const myloader = medians.get('myloader');
  const client = medians.get('mariadb client');
  const lightning = medians.get('lightning');
  const server = tidb ? 'tidb-server' : 'mariadbd';
  const header = ['tool', 'concurrency', 'seconds', 'MB/s', 'rows/s', 'Tempest speed / this', 'tool CPU s', `${server} CPU s`, `${server} writes MB`, 'busy sessions mean/max', 'other CPU s'];
  const rows = results.map((r) => [
    r.tool,
    r.concurrency,
    r.seconds.toFixed(1),
    (dump.dataBytes / r.seconds / 1e6).toFixed(1),
    Math.round(dump.rows / r.seconds).toLocaleString('en-US'),
    tempest !== undefined && r.tool !== 'tempest' ? (r.seconds / tempest).toFixed(2) + '×' : '',
    Object.entries(r.toolCpu)
      .sort((a, b) => b[1] - a[1])
      .map(([comm, seconds]) => `${comm} ${seconds.toFixed(1)}`)
      .join(', '),
    r.mariadbCpu.toFixed(1),
    r.mariadbWriteMB.toFixed(0),
    `${r.busyMean.toFixed(2)}/${r.busyMax}`,
    Math.max(0, r.otherCpu).toFixed(1),
  ]);
  log('\n## Import speed');
  log('');
  log(
    `Dump: ${mb(dump.dataBytes)} MB of SQL data files (${dump.tables.map((t) => `${t.name}: ${t.files.length} files, ${t.rows} rows`).join('; ')}; ` +
      `${dump.rows} rows), ~1 MiB multi-row INSERTs, mydumper layout, seed ${dump.seed}.`,
  );
  log(`Target: ${tidb ? 'tidb-server (unistore, in memory)' : 'MariaDB'} at ${opt.host}:${opt.port}, ${os.cpus().length} cores, node ${process.version}. MB = 10^6 bytes of data files.`);
  if (coreSplit) log(`Cores split (--split-cores): the loaders on ${coreSplit.loaderCores}, mariadbd on ${coreSplit.serverCores}, as when the importer runs on another host.`);
  log(`CPU columns: seconds of CPU used during the load by the loader (by process name), by ${server}, and by every other process (noise).`);
  log('Busy sessions: target sessions running a statement on the load\'s database, sampled every 250 ms.');
  log('');
  log(`| ${header.join(' | ')} |`);
  log(`| ${header.map((_, i) => (i >= 2 ? '---:' : '---')).join(' | ')} |`);
  for (const row of rows) log(`| ${row.join(' | ')} |`);
  log('');
  if (tempest !== undefined) {
    const of = opt.rounds > 1 ? ` (medians of ${opt.rounds} rounds: ${[...medians].map(([tool, seconds]) => `${tool} ${seconds.toFixed(1)} s`).join(', ')})` : '';
    if (myloader !== undefined) log(`Tempest / myloader speed: ${(myloader / tempest).toFixed(2)} (>1: Tempest faster)${of}`);
    if (client !== undefined) log(`Tempest / mariadb client speed: ${(client / tempest).toFixed(2)} (>1: Tempest faster)${of}`);
    if (lightning !== undefined) log(`Tempest / Lightning speed: ${(lightning / tempest).toFixed(2)} (>1: Tempest faster)${of}`);
  }
  for (const line of new Set(results.filter((r) => r.note).map((r) => `- ${r.tool}: ${r.note}`))) log(line);
}

// ---------------------------------------------------------------------------------------------

/** Set with --split-cores. */
let coreSplit: CoreSplit | undefined;
/** Set with --tidb: the run's own tidb-server, the target of every load. */
let tidb: TidbServer | undefined;

async function main(): Promise<void> {
  const dump = await ensureDump();
  if (opt.splitCores) {
    const mariadbd = findMariadbd();
    if (mariadbd === undefined) fail('--split-cores: no local mariadbd process to pin');
    coreSplit = splitCores(mariadbd);
  }
  if (opt.tidb) {
    tidb = await startTidbServer();
    Object.assign(opt, { host: tidb.host, port: tidb.port, user: 'root', password: '' });
  }
  const admin = await mysql.createConnection(connectionOptions());
  const [version] = await admin.query<RowDataPacket[]>('SELECT VERSION() AS v');
  log(`target: ${tidb ? 'TiDB' : 'MariaDB'} ${version[0].v} at ${opt.host}:${opt.port}; threads ${opt.threads}; tools ${opt.tools.join(', ')}`);
  const results: LoadResult[] = [];
  const loads: Record<string, { database: string; run: () => Promise<LoadResult> }> = {
    myloader: { database: `${opt.dbPrefix}myloader`, run: () => loadMyloader(admin, dump) },
    mariadb: { database: `${opt.dbPrefix}mariadb`, run: () => loadMariadbClient(admin, dump) },
    tempest: { database: `${opt.dbPrefix}tempest`, run: () => loadTempest(admin, dump, 'auto') },
    'tempest-insert': { database: `${opt.dbPrefix}tempest`, run: () => loadTempest(admin, dump, 'insert') },
    lightning: { database: `${opt.dbPrefix}lightning`, run: () => loadLightning(admin, dump) },
  };
  let failed = false;
  for (const tool of Array.from({ length: opt.rounds }, () => opt.tools).flat()) {
    try {
      const result = await loads[tool].run();
      results.push(result);
      log(`  ${result.tool}: ${result.seconds.toFixed(1)} s, ${mb(dump.dataBytes / result.seconds)} MB/s, ${Math.round(dump.rows / result.seconds)} rows/s`);
    } catch (error) {
      failed = true;
      log(`  FAILED: ${(error as Error).message}`);
    } finally {
      if (!opt.keep) await dropDatabase(admin, loads[tool].database);
    }
  }
  await admin.end();
  coreSplit?.restore();
  report(dump, results);
  if (failed) {
    log('\nAT LEAST ONE LOAD FAILED (see above)');
    process.exitCode = 1;
  }
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => tidb?.stop());
