/**
 * CPU cost of turning a dump's SQL rows into batches, the import's hot path, without a target
 * write: `node dist/bench/encode-rows.js [--dir DIR] [--rounds N] [--tables t1,t3] [--way sink,values]
 * [--checksum off,on]`. DIR is a dump made by
 * bench/import-speed.ts (default: its default directory); its tables are created in a scratch
 * database of the local MariaDB only to learn their columns.
 *
 * For each data file, prints the CPU seconds, MB/s and GC milliseconds (median of the rounds) of:
 * - `sink`: the reader hands values straight to the batch encoder (how SQL chunks are imported);
 * - `values`: the reader builds a SourceRow per row and the encoder takes those (the way of CSV and
 *   Parquet rows), the cost without the hand-written path;
 * each with the checksum computed (`[post-restore] checksum` on) and without.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { readSqlRows, readSqlRowsInto } from '../activities/source/sql-reader';
import { BatchEncoder, columnMapping, EncodingSink, type ColumnMapping } from '../activities/database/batch-encoder';
import { checksumColumns, RowChecksummer } from '../activities/database/row-checksum';
import { readTargetColumns, type TargetColumn } from '../activities/database/table-columns';
import { quoteName } from '../activities/database/sql-text';
import { median } from './support/median';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: path.join(os.tmpdir(), 'tempest-bench-dump') },
    rounds: { type: 'string', default: '3' },
    tables: { type: 'string', default: '' },
    way: { type: 'string', default: 'sink,values' },
    checksum: { type: 'string', default: 'off,on' },
  },
  strict: true,
});

const BATCH_BYTES = 1024 * 1024;
const READ_BLOCK = 64 * 1024;

/** Feeds an encoder the way a chunk's writer does, sealing a batch every BATCH_BYTES. */
class BenchSink extends EncodingSink {
  rows = 0;

  constructor(
    protected readonly encoder: BatchEncoder,
    private readonly mapping: ColumnMapping,
  ) {
    super();
  }

  startRow(): void {
    this.encoder.startRow(this.mapping, true);
  }

  endRow(): void {
    this.encoder.endRow();
    this.rows++;
    if (this.encoder.bytes >= BATCH_BYTES) this.encoder.take();
  }
}

async function* readFile(file: string): AsyncGenerator<Buffer> {
  yield* fs.createReadStream(file, { highWaterMark: READ_BLOCK });
}

async function encodeFile(file: string, columns: TargetColumn[], way: 'sink' | 'values', checksum: boolean): Promise<number> {
  const covered = checksumColumns(columns).covered;
  const encoder = new BatchEncoder(checksum ? new RowChecksummer(covered) : undefined, BATCH_BYTES + 64 * 1024);
  const sink = new BenchSink(encoder, columnMapping({ schema: 'bench', name: 'bench' }, columns, covered, 'error', true));
  if (way === 'sink') {
    for await (const group of readSqlRowsInto(readFile(file), { path: file }, sink)) void group;
    return sink.rows;
  }
  for await (const rows of readSqlRows(readFile(file), { path: file })) {
    for (const row of rows) sink.addRow(row);
  }
  return sink.rows;
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

async function measure(file: string, columns: TargetColumn[], way: 'sink' | 'values', checksum: boolean): Promise<{ cpu: number; gc: number; rows: number }> {
  const cpuBefore = process.cpuUsage();
  const gcBefore = gcMs;
  const rows = await encodeFile(file, columns, way, checksum);
  // Let the GC observer's entries for this run arrive.
  await new Promise((resolve) => setImmediate(resolve));
  const cpu = process.cpuUsage(cpuBefore);
  return { cpu: (cpu.user + cpu.system) / 1e6, gc: gcMs - gcBefore, rows };
}

async function tableColumns(dir: string, tables: string[]): Promise<Map<string, TargetColumn[]>> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', multipleStatements: true });
  const scratch = `tempest_encode_bench_${process.pid}`;
  try {
    await connection.query(`CREATE DATABASE ${quoteName(scratch)}`);
    await connection.query(`USE ${quoteName(scratch)}`);
    const columns = new Map<string, TargetColumn[]>();
    for (const table of tables) {
      const schema = fs.readFileSync(path.join(dir, `bench.${table}-schema.sql`), 'utf8');
      await connection.query(schema);
      const pool = mysql.createPool({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
      columns.set(table, await readTargetColumns(pool, scratch, table));
      await pool.end();
    }
    return columns;
  } finally {
    await connection.query(`DROP DATABASE IF EXISTS ${quoteName(scratch)}`);
    await connection.end();
  }
}

async function main(): Promise<void> {
  const dir = path.resolve(args.dir!);
  const rounds = Math.max(1, Math.trunc(Number(args.rounds)));
  const tables = args.tables ? args.tables.split(',') : undefined;
  const ways = args.way!.split(',') as Array<'sink' | 'values'>;
  const checksums = args.checksum!.split(',').map((value) => value === 'on');
  const files = (fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => /^bench\.\w+\.00001\.sql$/.test(name)) : []).filter(
    (name) => !tables || tables.includes(name.split('.')[1]),
  );
  if (files.length === 0) throw new Error(`${dir} holds no dump: make one with bash bench/import-speed.sh (it keeps it there), or give --dir`);
  const columns = await tableColumns(dir, files.map((name) => name.split('.')[1]));
  console.log(`| file | MB | way | checksum | CPU s | MB/s | GC ms | rows |`);
  console.log(`| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |`);
  for (const name of files) {
    const file = path.join(dir, name);
    const mb = fs.statSync(file).size / 1e6;
    for (const checksum of checksums) {
      for (const way of ways) {
        const runs = [];
        for (let round = 0; round < rounds; round++) runs.push(await measure(file, columns.get(name.split('.')[1])!, way, checksum));
        const cpu = median(runs.map((run) => run.cpu));
        const gc = median(runs.map((run) => run.gc));
        console.log(`| ${name} | ${mb.toFixed(1)} | ${way} | ${checksum ? 'on' : 'off'} | ${cpu.toFixed(2)} | ${(mb / cpu).toFixed(0)} | ${gc.toFixed(0)} | ${runs[0].rows} |`);
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
