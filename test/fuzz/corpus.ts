/**
 * The seed corpus of the mutation campaigns: the data files of a generated Dumpling dump (the
 * fixture the integration tests import), the same rows as Parquet files written several ways, and
 * the text files compressed by each codec Tempest reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { CsvOptions } from '../../activities/source/csv-reader';
import { snappyFramed, zstd } from '../helpers/compress';
import { generateDump, type FixtureValue } from '../helpers/dump-fixture';

export interface SeedCorpus {
  sql: Buffer[];
  csv: Buffer[];
  parquet: Buffer[];
  gzip: Buffer[];
  zstd: Buffer[];
  snappy: Buffer[];
}

/** How the fixture writes its CSV files: Lightning's default `[mydumper.csv]`, with a header. */
export const FIXTURE_CSV: CsvOptions = {
  separator: ',',
  delimiter: '"',
  terminator: '',
  header: true,
  notNull: false,
  null: ['\\N'],
  backslashEscape: true,
  trimLastSeparator: false,
};

export async function buildSeedCorpus(scratch: string): Promise<SeedCorpus> {
  const fixture = generateDump({ schema: 'fuzz', dir: path.join(scratch, 'dump'), rows: 36, rowsPerFile: 12, seed: 7 });
  const sql: Buffer[] = [];
  const csv: Buffer[] = [];
  const gzip: Buffer[] = [];
  for (const name of fs.readdirSync(fixture.dir).sort()) {
    const match = /^fuzz\.\w+\.\d+\.(sql|csv)(\.gz)?$/.exec(name);
    if (!match) continue;
    const stored = fs.readFileSync(path.join(fixture.dir, name));
    if (match[2]) gzip.push(stored);
    (match[1] === 'sql' ? sql : csv).push(match[2] ? zlib.gunzipSync(stored) : stored);
  }
  const text = [...sql, ...csv];
  // One input longer than a snappy frame (64 KiB) and a zstd block (128 KiB), so frame and block boundaries get mutated too.
  const long = Buffer.concat(Array.from({ length: 12 }, () => Buffer.concat(text)));
  const typed = fixture.tables.find((table) => table.name === 'typed');
  if (!typed) throw new Error('the dump fixture has no `typed` table');
  return {
    sql,
    csv,
    parquet: parquetSeeds(typed.rows),
    gzip: [...gzip, zlib.gzipSync(long, { level: 1 })],
    zstd: [...text.slice(0, 4).map((bytes) => zstd(bytes)), zstd(long, '-19')],
    snappy: await Promise.all([...text.slice(0, 4), long].map((bytes) => snappyFramed(bytes, [bytes.subarray(0, 1000), bytes.subarray(1000)]))),
  };
}

/** The typed table's rows as Parquet: flat columns of the physical and annotated types the reader converts. */
function parquetSeeds(rows: FixtureValue[][]): Buffer[] {
  const column = (index: number) => rows.map((row) => row[index]);
  const text = (value: FixtureValue) => (value === null ? null : String(value));
  const columnData = [
    { name: 'id', data: column(0) },
    { name: 'name', data: column(1).map(text) },
    { name: 'price', data: column(2).map((value) => (value === null ? null : BigInt(String(value).replace('.', '')))) },
    { name: 'ratio', data: column(3) },
    { name: 'created', data: column(4).map((value) => BigInt(Date.parse(`${String(value).slice(0, 19)}Z`)) * 1000n) },
    { name: 'day', data: column(5).map((value) => (value === null ? null : Math.round(Date.parse(String(value)) / 86_400_000))) },
    { name: 'payload', data: column(7).map((value) => (value === null ? null : new Uint8Array(value as Buffer))) },
    { name: 'flag', data: column(8).map((value) => Number(value) % 2 === 1) },
    { name: 'big', data: column(12).map((value) => (value === null ? null : BigInt(String(value)))) },
    { name: 'tiny', data: column(13) },
  ];
  const schema = [
    { name: 'root', num_children: columnData.length },
    { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'price', type: 'INT64', converted_type: 'DECIMAL', precision: 14, scale: 4, repetition_type: 'OPTIONAL' },
    { name: 'ratio', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'created', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED' },
    { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
    { name: 'payload', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
    { name: 'flag', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
    { name: 'big', type: 'INT64', converted_type: 'UINT_64', repetition_type: 'OPTIONAL' },
    { name: 'tiny', type: 'INT32', converted_type: 'INT_8', repetition_type: 'REQUIRED' },
  ] as const;
  const write = (options: { codec: 'SNAPPY' | 'UNCOMPRESSED'; rowGroupSize: number; pageSize: number; statistics: boolean }) =>
    Buffer.from(parquetWriteBuffer({ columnData: columnData as never, schema: schema as never, ...options }));
  return [
    write({ codec: 'SNAPPY', rowGroupSize: 12, pageSize: 1 << 20, statistics: true }),
    write({ codec: 'UNCOMPRESSED', rowGroupSize: 36, pageSize: 1 << 20, statistics: false }),
    write({ codec: 'SNAPPY', rowGroupSize: 5, pageSize: 128, statistics: false }),
  ];
}
