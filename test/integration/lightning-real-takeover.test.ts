import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { freePort } from '../helpers/free-port';
import { runTempest, type TempestRun } from '../helpers/run-tempest';
import { sortedRows } from '../helpers/target-db';
import { readCheckpointFile } from '../../activities/checkpoint/file-driver';
import type { CheckpointModel } from '../../activities/checkpoint/checkpoint-model';
import { startTidbServer, tidbBinDir, type TidbServer } from '../helpers/tidb-server';
import { startFakePd, type FakePd } from '../helpers/fake-pd';

/**
 * The real Lightning (logical mode, file checkpoint) killed with -9 in the middle of an import, and
 * Tempest taking its run over from the checkpoint it left: every table ends as a plain client's load
 * of the same dump, row for row. And the other way: stock Lightning and tidb-lightning-ctl read the
 * checkpoints Tempest keeps. Black box: the binaries and `bin/tempest` as a user runs them, on a
 * tidb-server of the test's own.
 */

let tidb: TidbServer;
let pd: FakePd;
let bin: string;
let db: Connection;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-lightning-real-'));

before(async () => {
  bin = tidbBinDir();
  [tidb, pd] = await Promise.all([startTidbServer(), startFakePd()]);
  db = await mysql.createConnection({
    host: tidb.host,
    port: tidb.port,
    user: 'root',
    password: '',
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: true,
  });
});

after(async () => {
  await db?.end().catch(() => undefined);
  await Promise.all([tidb?.stop(), pd?.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Paths {
  checkpoint: string;
  lightningToml: string;
  /** Lightning's file with `[tidb] pd-addr` (tidb-lightning-ctl makes a PD client before anything else). */
  ctlToml: string;
  tempestToml: string;
  lightningLog: string;
}

interface ConfigOptions {
  /** The `[checkpoint]` section's lines; a file checkpoint in the state folder when unset. */
  checkpoint?: (file: string) => string;
  /** `[lightning]` concurrency lines. */
  lightning?: string;
}

async function writeConfigs(name: string, source: string, options: ConfigOptions = {}): Promise<Paths> {
  const state = path.join(dir, `${name}-state`);
  fs.mkdirSync(state, { recursive: true });
  const paths: Paths = {
    checkpoint: path.join(state, 'cp.pb'),
    lightningToml: path.join(state, 'tidb-lightning.toml'),
    ctlToml: path.join(state, 'tidb-lightning-ctl.toml'),
    tempestToml: path.join(state, 'tempest.toml'),
    lightningLog: path.join(state, 'lightning.log'),
  };
  const checkpoint = options.checkpoint?.(paths.checkpoint) ?? `enable = true\ndriver = "file"\ndsn = ${JSON.stringify(paths.checkpoint)}`;
  // What a Lightning user has: stock Lightning reads it as it is. [tidb] comes last, for pd-addr.
  const lightning = `[lightning]
level = "info"
file = ${JSON.stringify(paths.lightningLog)}
status-addr = "127.0.0.1:${await freePort()}"
check-requirements = false
${options.lightning ?? ''}

[checkpoint]
${checkpoint}

[tikv-importer]
backend = "tidb"

[mydumper]
data-source-dir = ${JSON.stringify(source)}

[tidb]
host = ${JSON.stringify(tidb.host)}
port = ${tidb.port}
user = "root"
password = ""
status-port = ${tidb.statusPort}
`;
  fs.writeFileSync(paths.lightningToml, lightning);
  fs.writeFileSync(paths.ctlToml, `${lightning}pd-addr = ${JSON.stringify(pd.address)}\n`);
  // The same file with Tempest's own section: its embedded Temporal on free ports, its state here.
  fs.writeFileSync(
    paths.tempestToml,
    `${lightning}
[temporal]
state-dir = ${JSON.stringify(path.join(state, 'temporal'))}
dev-server-port = ${await freePort()}
dev-server-ui-port = ${await freePort()}
`,
  );
  return paths;
}

function run(command: string, args: string[], timeoutMs = 120_000): Promise<TempestRun> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

async function tempestImport(paths: Paths): Promise<TempestRun> {
  const result = await runTempest(['import', '-c', paths.tempestToml], 300_000);
  console.log(`# tempest import: exit ${result.code}\n${result.stdout}${result.stderr}`);
  return result;
}

/** `tidb-lightning-ctl` with these flags, to its end. */
async function lightningCtl(paths: Paths, ...flags: string[]): Promise<TempestRun> {
  const result = await run(path.join(bin, 'tidb-lightning-ctl'), ['-config', paths.ctlToml, ...flags]);
  assert.equal(result.code, 0, `tidb-lightning-ctl ${flags.join(' ')} failed: ${result.stdout}${result.stderr.split('\n').slice(-20).join('\n')}`);
  return result;
}

async function rowsIn(schema: string, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    try {
      const [rows] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.\`${table}\``);
      counts[table] = Number(rows[0].n);
    } catch {
      counts[table] = 0; // not created yet
    }
  }
  return counts;
}

/** Runs stock Lightning and kills it with SIGKILL once its checkpoint exists and `enough` says the target holds enough rows. */
async function runLightningUntil(paths: Paths, fixture: DumpFixture, enough: (counts: Record<string, number>) => boolean): Promise<Record<string, number>> {
  const child: ChildProcess = spawn(path.join(bin, 'tidb-lightning'), ['-config', paths.lightningToml], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tables = fixture.tables.map((table) => table.name);
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`tidb-lightning ended (code ${child.exitCode}) before it was killed: the dump is too small, or it failed. ${stderr}\nlog: ${tail(paths.lightningLog)}`);
      }
      const counts = await rowsIn(fixture.schema, tables);
      if (fs.existsSync(paths.checkpoint) && enough(counts)) {
        child.kill('SIGKILL');
        await exited;
        // A statement it had sent may still commit: the target settles first.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return rowsIn(fixture.schema, tables);
      }
      if (Date.now() > deadline) throw new Error(`tidb-lightning did not get there in 120 s: ${JSON.stringify(counts)}\nlog: ${tail(paths.lightningLog)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(none)';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One line per table and chunk of a checkpoint, for the test's log. */
function describe(model: CheckpointModel): string {
  return model.tables
    .map((table) =>
      [
        `${table.key} status ${table.status}`,
        ...table.engines.flatMap((engine) => engine.chunks.map((chunk) => `  engine ${engine.id} ${chunk.path}:${chunk.offset} pos ${chunk.pos}/${chunk.endOffset} rows ${chunk.rows} ${chunk.compression}`)),
      ].join('\n'),
    )
    .join('\n');
}

/** Rows of the keyed tables that Lightning had committed past the positions it saved: the case a take-over must not write twice. */
function rowsPastPositions(model: CheckpointModel, schema: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    model.tables.map((table) => {
      const name = table.key.slice(schema.length + 4, -1);
      const saved = table.engines.flatMap((engine) => engine.chunks).reduce((sum, chunk) => sum + chunk.rows, 0);
      return [name, counts[name] - saved];
    }),
  );
}

async function assertSameAsReference(fixture: DumpFixture, reference: string, tables = fixture.tables.map((table) => table.name)): Promise<void> {
  for (const table of tables) {
    const actual = await sortedRows(db, fixture.schema, table);
    const expected = await sortedRows(db, reference, table);
    assert.equal(actual.length, expected.length, `${table}: ${actual.length} rows, the dump has ${expected.length}`);
    assert.deepEqual(actual, expected, `${table}: the rows differ from the reference load`);
  }
}

async function prepareDump(schema: string, rowsPerFile: number): Promise<{ fixture: DumpFixture; reference: string; total: Record<string, number> }> {
  const fixture = generateDump({ schema, dir: path.join(dir, `${schema}-dump`), rows: 12_000, rowsPerFile, seed: 7, binaryLiterals: 'hex' });
  const reference = `${schema}_ref`;
  await loadReference(db, reference, fixture);
  return { fixture, reference, total: Object.fromEntries(fixture.tables.map((table) => [table.name, table.rows.length])) };
}

test('stock Lightning killed with -9 while it writes the keyed tables is taken over by Tempest: every table as a plain load of the dump; Lightning then reads the checkpoint Tempest kept and finds nothing to do', { timeout: 600_000 }, async () => {
  const { fixture, reference, total } = await prepareDump('lt_keyed', 2_000);
  const paths = await writeConfigs('keyed', fixture.dir, {
    lightning: 'region-concurrency = 2\ntable-concurrency = 2',
    checkpoint: (file) => `enable = true\ndriver = "file"\ndsn = ${JSON.stringify(file)}\nkeep-after-success = "origin"`,
  });

  // Some of the typed table in, not all: Tempest takes over tables in every state.
  const atKill = await runLightningUntil(paths, fixture, (counts) => counts.typed > 0 && counts.from_csv > 0);
  const left = await readCheckpointFile(paths.checkpoint);
  console.log(`# Lightning killed with rows in: ${JSON.stringify(atKill)} of ${JSON.stringify(total)}; past its saved positions: ${JSON.stringify(rowsPastPositions(left, fixture.schema, atKill))}`);
  console.log(`# the checkpoint it left:\n${describe(left)}`);
  assert.ok(atKill.typed < total.typed, 'Lightning was killed before it finished the typed table');

  const result = await tempestImport(paths);
  assert.equal(result.code, 0, 'the import succeeded');
  assert.match(result.stdout, new RegExp(`took over the Lightning checkpoint in ${escapeRegExp(paths.checkpoint)}: 3 tables`));
  await assertSameAsReference(fixture, reference);

  // keep-after-success = "origin": the checkpoint stays, in Lightning's format, and says all is done.
  const kept = await readCheckpointFile(paths.checkpoint);
  assert.deepEqual(kept.tables.map((table) => table.key).sort(), fixture.tables.map((table) => `\`${fixture.schema}\`.\`${table.name}\``).sort());
  const again = await run(path.join(bin, 'tidb-lightning'), ['-config', paths.lightningToml], 120_000);
  assert.equal(again.code, 0, `stock Lightning on the checkpoint Tempest kept: ${again.stderr}\nlog: ${tail(paths.lightningLog)}`);
  await assertSameAsReference(fixture, reference);
});

test('stock Lightning killed with -9 while it writes the keyless table: Tempest takes it over, or refuses it with its documented message and takes over the rest once the operator has done what it says', { timeout: 600_000 }, async () => {
  const { fixture, reference, total } = await prepareDump('lt_keyless', 1_000);
  // Two chunks at once: the typed table's, and the other tables' one after the other (the keyless table's six files among them).
  const paths = await writeConfigs('keyless', fixture.dir, { lightning: 'region-concurrency = 2\ntable-concurrency = 2' });
  const key = `\`${fixture.schema}\`.\`keyless\``;

  // The keyless table part written, and a keyed table too: both kinds of take-over at once.
  const atKill = await runLightningUntil(paths, fixture, (counts) => counts.keyless > 0 && counts.keyless < total.keyless && counts.typed + counts.from_csv > 0);
  const left = await readCheckpointFile(paths.checkpoint);
  const past = rowsPastPositions(left, fixture.schema, atKill);
  console.log(`# Lightning killed with rows in: ${JSON.stringify(atKill)} of ${JSON.stringify(total)}; past its saved positions: ${JSON.stringify(past)}`);
  console.log(`# the checkpoint it left:\n${describe(left)}`);
  const keyless = left.tables.find((table) => table.key === key)!.engines.flatMap((engine) => engine.chunks);
  assert.ok(keyless.some((chunk) => chunk.pos < chunk.endOffset), 'Lightning was killed before it finished the keyless table');

  const first = await tempestImport(paths);
  if (first.code === 0) {
    console.log('# Tempest took the keyless table over');
    assert.match(first.stdout, /took over the Lightning checkpoint in .*: \d tables/);
    await assertSameAsReference(fixture, reference);
    return;
  }
  // Rows past the saved positions that any of several unfinished chunks may have written: refused, with what to do.
  const output = first.stdout + first.stderr;
  assert.match(output, new RegExp(`${escapeRegExp(key)} has no primary or unique key, and the target holds ${past.keyless} rows past the positions the checkpoint saved, which any of its \\d+ unfinished chunks`));
  assert.match(output, new RegExp(`Empty the table \\(TRUNCATE\\) and remove its entry from the checkpoint in ${escapeRegExp(paths.checkpoint)} \\(tidb-lightning-ctl --checkpoint-remove='${escapeRegExp(key)}'\\)`));
  console.log('# Tempest refused the keyless table; the operator does what it says');
  await db.query(`TRUNCATE TABLE ${key}`);
  await lightningCtl(paths, `--checkpoint-remove=${key}`);
  const second = await tempestImport(paths);
  assert.equal(second.code, 0, 'the import succeeded once the operator had done what the message said');
  // The keyed tables that hold rows are taken over (a table with none is imported as new).
  const keyedTables = fixture.tables.filter((table) => table.name !== 'keyless' && atKill[table.name] > 0).length;
  assert.match(second.stdout, new RegExp(`took over the Lightning checkpoint in ${escapeRegExp(paths.checkpoint)}: ${keyedTables} tables`));
  await assertSameAsReference(fixture, reference);
});

test("tidb-lightning-ctl --checkpoint-dump reads the MySQL checkpoint Tempest keeps, and stock Lightning finds nothing left to do in it", { timeout: 300_000 }, async () => {
  const schema = 'lt_mysql_cp';
  const fixture = generateDump({ schema, dir: path.join(dir, `${schema}-dump`), rows: 900, rowsPerFile: 300, seed: 11, binaryLiterals: 'hex' });
  const reference = `${schema}_ref`;
  await loadReference(db, reference, fixture);
  const paths = await writeConfigs('mysql-cp', fixture.dir, {
    checkpoint: () => `enable = true\ndriver = "mysql"\nschema = "${schema}_checkpoint"\nkeep-after-success = "origin"`,
  });
  const result = await tempestImport(paths);
  assert.equal(result.code, 0, 'the import succeeded');
  await assertSameAsReference(fixture, reference);

  const out = path.join(dir, `${schema}-ctl-dump`);
  await lightningCtl(paths, `--checkpoint-dump=${out}`);
  // This build of tidb-lightning-ctl writes the engines over tables.csv (it opens tables.csv twice,
  // and never creates engines.csv): tables.csv holds the engines' rows over the tables', each naming its table.
  const read = (file: string) => fs.readFileSync(path.join(out, file), 'utf8');
  const [tables, chunks] = [read('tables.csv'), read('chunks.csv')];
  console.log(`# tidb-lightning-ctl --checkpoint-dump:\ntables.csv:\n${tables}\nchunks.csv:\n${chunks.split('\n').slice(0, 4).join('\n')}`);
  for (const table of fixture.tables) {
    const key = `\`${schema}\`.\`${table.name}\``;
    assert.ok(tables.includes(key), `tables.csv names ${key}`);
    assert.ok(chunks.includes(key), `chunks.csv names ${key}`);
  }
  for (const file of fs.readdirSync(fixture.dir).filter((name) => /\.\d+\.(sql|csv)(\.gz)?$/.test(name))) {
    assert.ok(chunks.includes(file), `chunks.csv names ${file}`);
  }

  const again = await run(path.join(bin, 'tidb-lightning'), ['-config', paths.lightningToml], 120_000);
  assert.equal(again.code, 0, `stock Lightning on the checkpoint Tempest kept: ${again.stderr}\nlog: ${tail(paths.lightningLog)}`);
  await assertSameAsReference(fixture, reference);
});
