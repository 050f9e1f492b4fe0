/**
 * Throughput of the SQL, CSV and Parquet row readers, single core: `node dist/bench/readers.js [MiB]`.
 *
 * Generates ~64 MiB (or the given size) of a Dumpling-like SQL dump and of a CSV file in memory,
 * with a mix of ints, decimals, strings (some with escapes), NULLs and dates, then feeds each to
 * its reader in 64 KiB buffers and prints MB/s (10^6 bytes per second) and rows per second. The
 * same rows, written as a snappy-compressed Parquet file (64Ki rows per row group) to a temporary
 * file, are read back row group by row group; its MB/s counts the file's bytes.
 */
import { seededRandom as prng } from '../test/helpers/dump-fixture';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { readCsvRows, type CsvOptions } from '../activities/source/csv-reader';
import { readParquetRows } from '../activities/source/parquet-reader';
import { SourceFormatError, type SourceRow } from '../activities/source/row';
import { readSqlRows } from '../activities/source/sql-reader';

const CHUNK = 64 * 1024;
const ROWS_PER_STATEMENT = 500;


const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'tempest', 'lightning', 'storm', 'rain', 'cloud', 'wind', 'Zürich', '東京'];

interface RowData {
  id: number;
  amount: string;
  name: string;
  note: string | null;
  qty: number;
  day: string;
}

function makeRow(next: () => number, id: number): RowData {
  const words: string[] = [];
  const count = 1 + Math.floor(next() * 6);
  for (let i = 0; i < count; i++) words.push(WORDS[Math.floor(next() * WORDS.length)]);
  let note: string | null = words.join(' ');
  const r = next();
  if (r < 0.15) note = null;
  else if (r < 0.3) note = `it's "quoted", with a\nnewline and a \\ backslash`;
  return {
    id,
    amount: (next() * 100000).toFixed(2),
    name: WORDS[Math.floor(next() * WORDS.length)] + id,
    note,
    qty: Math.floor(next() * 1000) - 500,
    day: `2024-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 10)}`,
  };
}

function sqlString(s: string): string {
  return "'" + s.replace(/[\\'\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c)) + "'";
}

function csvString(s: string): string {
  return '"' + s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c)) + '"';
}

function generate(targetBytes: number): { sql: Buffer; csv: Buffer; rows: RowData[] } {
  const next = prng(42);
  const sqlParts: string[] = ['/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n'];
  const csvParts: string[] = ['id,amount,name,note,qty,day\n'];
  const rows: RowData[] = [];
  let sqlBytes = 0;
  let csvBytes = 0;
  let id = 0;
  while (sqlBytes < targetBytes || csvBytes < targetBytes) {
    const tuples: string[] = [];
    for (let i = 0; i < ROWS_PER_STATEMENT; i++) {
      const row = makeRow(next, ++id);
      if (csvBytes < targetBytes) rows.push(row);
      const note = row.note === null ? 'NULL' : sqlString(row.note);
      tuples.push(`(${row.id},${row.amount},${sqlString(row.name)},${note},${row.qty},'${row.day}')`);
      const line = `${row.id},${row.amount},${csvString(row.name)},${row.note === null ? '\\N' : csvString(row.note)},${row.qty},${row.day}\n`;
      if (csvBytes < targetBytes) {
        csvParts.push(line);
        csvBytes += Buffer.byteLength(line);
      }
    }
    if (sqlBytes < targetBytes) {
      const statement = 'INSERT INTO `bench` VALUES\n' + tuples.join(',\n') + ';\n';
      sqlParts.push(statement);
      sqlBytes += Buffer.byteLength(statement);
    }
  }
  return { sql: Buffer.from(sqlParts.join('')), csv: Buffer.from(csvParts.join('')), rows };
}

async function* chunks(data: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

async function measure(name: string, data: Buffer, read: (input: AsyncIterable<Buffer>) => AsyncGenerator<SourceRow[]>): Promise<void> {
  // One untimed pass over a slice, so the timed pass runs optimised code. The slice ends anywhere,
  // most likely inside a row: that error is expected.
  try {
    for await (const rows of read(chunks(data.subarray(0, Math.min(data.length, 16 * CHUNK))))) void rows;
  } catch (e) {
    if (!(e instanceof SourceFormatError)) throw e;
  }
  const start = process.hrtime.bigint();
  let count = 0;
  for await (const rows of read(chunks(data))) count += rows.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${name}: ${(data.length / seconds / 1e6).toFixed(1)} MB/s, ${Math.round(count / seconds)} rows/s (${count} rows, ${(data.length / 1048576).toFixed(1)} MiB in ${seconds.toFixed(2)} s)`);
}

/** The rows as a Parquet file: what a Spark or pyarrow export of the table would hold. */
function writeParquet(rows: readonly RowData[], file: string): number {
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'id', data: rows.map((row) => row.id) },
      { name: 'amount', data: rows.map((row) => BigInt(row.amount.replace('.', ''))) },
      { name: 'name', data: rows.map((row) => row.name) },
      { name: 'note', data: rows.map((row) => row.note) },
      { name: 'qty', data: rows.map((row) => row.qty) },
      { name: 'day', data: rows.map((row) => Math.round(Date.parse(row.day) / 86_400_000)) },
    ],
    schema: [
      { name: 'root', num_children: 6 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'amount', type: 'INT64', converted_type: 'DECIMAL', precision: 12, scale: 2, repetition_type: 'REQUIRED' },
      { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'qty', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' },
    ],
    rowGroupSize: 65536,
  });
  return fs.statSync(file).size;
}

async function measureParquet(file: string, size: number, rowCount: number): Promise<void> {
  // One untimed pass over the first row group, so the timed pass runs optimised code.
  for await (const rows of readParquetRows(file, { startRow: 0, endRow: 65536 })) void rows;
  const start = process.hrtime.bigint();
  let count = 0;
  for await (const rows of readParquetRows(file, { startRow: 0, endRow: rowCount })) count += rows.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`parquet reader: ${(size / seconds / 1e6).toFixed(1)} MB/s, ${Math.round(count / seconds)} rows/s (${count} rows, ${(size / 1048576).toFixed(1)} MiB in ${seconds.toFixed(2)} s)`);
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 64);
  const { sql, csv, rows } = generate(mib * 1024 * 1024);
  const csvOptions: CsvOptions = {
    separator: ',',
    delimiter: '"',
    terminator: '',
    header: true,
    notNull: false,
    null: ['\\N'],
    backslashEscape: true,
    trimLastSeparator: false,
  };
  await measure('sql reader', sql, (input) => readSqlRows(input, { path: 'bench.sql' }));
  await measure('csv reader', csv, (input) => readCsvRows(input, { path: 'bench.csv', csv: csvOptions, startOffset: 0 }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-bench-'));
  try {
    const file = path.join(dir, 'bench.parquet');
    await measureParquet(file, writeParquet(rows, file), rows.length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
