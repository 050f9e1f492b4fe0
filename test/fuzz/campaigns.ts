/**
 * The fuzz campaigns, one per reader (and two round trips). Each `run` handles one input made from
 * its seeded Rng and returns the outcome's kind; it throws when a property fails: an exception
 * other than the reader's typed error, an error that does not name the file and a position inside
 * the input, rows out of order, or a different reading when the same bytes come in other pieces.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { readCsvHeader, readCsvRows, type CsvOptions } from '../../activities/source/csv-reader';
import type { Compression, DataFile } from '../../activities/source/layout-types';
import { openDataFile } from '../../activities/source/open-data-file';
import { planParquetChunks, readParquetRows } from '../../activities/source/parquet-reader';
import { SourceFormatError, type SourceRow } from '../../activities/source/row';
import { readSqlRows } from '../../activities/source/sql-reader';
import { FIXTURE_CSV, type SeedCorpus } from './corpus';
import { generateCsv, generateSql, randomCsvOptions } from './generators';
import { mutate, TEXT_TOKENS } from './mutate';
import { checkOutcome, chunked, chunkSize, kindOf, outcome, show } from './outcome';
import type { Rng } from './random';

export interface Campaign {
  /** What it reads, as reports name it. */
  reader: string;
  /** One input; `scratch` is a directory of the campaign's own. Returns the outcome's kind. */
  run(r: Rng, corpus: SeedCorpus, scratch: string): Promise<string>;
}

export type CampaignName = keyof typeof campaigns;

const BYTE_OFFSET = /: byte offset \d+: /;

async function sqlRoundTrip(r: Rng): Promise<string> {
  const { data, rows } = generateSql(r, 5, 6, 6);
  const size = chunkSize(r, data.length);
  const got = await outcome(readSqlRows(chunked(data, size), { path: 'fuzz.sql' }), 'fuzz.sql');
  assert.deepStrictEqual(got, { rows }, `SQL read in ${size}-byte buffers: ${show(data)}`);
  return kindOf(got);
}

async function csvRoundTrip(r: Rng): Promise<string> {
  const o = randomCsvOptions(r);
  const file = generateCsv(r, o, 12, 5);
  const { data } = file;
  const where = `options ${JSON.stringify(o)}, data ${show(data)}`;
  const expected = (from: number, to: number, columns: readonly string[] | undefined): SourceRow[] =>
    file.rows.filter((row) => row.start >= from && row.start < to).map((row) => ({ values: row.values, columns, endOffset: row.end }));
  const read = (bytes: Buffer, startOffset: number, endOffset?: number, columns?: readonly string[]) =>
    outcome(readCsvRows(chunked(bytes, chunkSize(r, bytes.length)), { path: 'fuzz.csv', csv: o, startOffset, endOffset, columns }), 'fuzz.csv');

  const whole = await read(data, 0);
  assert.deepStrictEqual(whole, { rows: expected(0, Infinity, file.columns) }, `whole file, ${where}`);
  // Two chunks: [0, E) then from the end of the last row read.
  const E = r.int(data.length + 1);
  const first = await read(data, 0, E);
  assert.deepStrictEqual(first, { rows: expected(0, E, file.columns) }, `first chunk [0, ${E}), ${where}`);
  const S = first.rows.length > 0 ? first.rows[first.rows.length - 1].endOffset : o.header ? file.headerEnd : 0;
  const second = await read(data.subarray(S), S, undefined, file.columns);
  assert.deepStrictEqual(second, { rows: expected(E, Infinity, file.columns) }, `second chunk from ${S}, ${where}`);
  return kindOf(whole);
}

async function sqlMutation(r: Rng, corpus: SeedCorpus): Promise<string> {
  const seed = r.chance(0.5) ? r.pick(corpus.sql) : generateSql(r, 3, 3, 4).data;
  const data = mutate(r, seed, TEXT_TOKENS, r.pick(corpus.sql));
  const what = `data ${show(data)}`;
  const read = (size: number) => outcome(readSqlRows(chunked(data, size), { path: 'fuzz.sql' }), 'fuzz.sql');
  const whole = await read(Math.max(1, data.length));
  checkOutcome(whole, 'fuzz.sql', 0, data.length, BYTE_OFFSET, what);
  const size = r.pick([1, 2, 3, 5, 16, 4096]);
  assert.deepStrictEqual(await read(size), whole, `the same in ${size}-byte buffers, ${what}`);
  return kindOf(whole);
}

async function csvMutation(r: Rng, corpus: SeedCorpus): Promise<string> {
  // A fixture file read with its own options or with others, or a generated file with the options it was written with.
  const fromFixture = r.chance(0.4);
  const o: CsvOptions = fromFixture && r.chance(0.5) ? FIXTURE_CSV : randomCsvOptions(r);
  const seed = fromFixture ? r.pick(corpus.csv) : generateCsv(r, o, 5, 4).data;
  const tokens = [...TEXT_TOKENS, o.separator, o.delimiter || '"', o.terminator || '\n', ...o.null];
  const data = mutate(r, seed, tokens, r.pick(corpus.csv));
  const startOffset = r.chance(0.3) ? r.int(1000) : 0;
  const what = `options ${JSON.stringify(o)}, start ${startOffset}, data ${show(data)}`;
  const read = (size: number) => outcome(readCsvRows(chunked(data, size), { path: 'fuzz.csv', csv: o, startOffset }), 'fuzz.csv');
  const whole = await read(Math.max(1, data.length));
  checkOutcome(whole, 'fuzz.csv', startOffset, data.length, BYTE_OFFSET, what);
  const size = r.pick([1, 2, 3, 5, 16, 4096]);
  assert.deepStrictEqual(await read(size), whole, `the same in ${size}-byte buffers, ${what}`);
  if (o.header) {
    // The header alone, as planning reads it to map a file's columns.
    async function* header(): AsyncGenerator<SourceRow[]> {
      const { endOffset } = await readCsvHeader(chunked(data, size), { path: 'fuzz.csv', csv: o });
      assert.ok(endOffset >= 0 && endOffset <= data.length, `header end ${endOffset}, ${what}`);
    }
    checkOutcome(await outcome(header(), 'fuzz.csv'), 'fuzz.csv', 0, data.length, BYTE_OFFSET, `header, ${what}`);
  }
  return kindOf(whole);
}

/** Parquet positions are rows: an error names the row group and row, or the part of the file it could not read. */
const PARQUET_PLACE = /: (row group \d+, row \d+ of the group \(row \d+ of the file\)|file footer|schema|row group): /;
/** The inputs are a few KiB: a second is a hundred times what their decoding takes. */
const PARQUET_DEADLINE = { baseMs: 1000, msPerMiB: 1000 };
const PARQUET_TOKENS = ['PAR1', '\0\0\0\0', '\xff\xff\xff\xff', '\x15\x00', '\x19\x1c', '\x26', '\x2c'];

async function parquetMutation(r: Rng, corpus: SeedCorpus, scratch: string): Promise<string> {
  const data = mutate(r, r.pick(corpus.parquet), PARQUET_TOKENS, r.pick(corpus.parquet));
  const file = path.join(scratch, 'fuzz.parquet');
  fs.writeFileSync(file, data);
  const what = `${data.length} bytes, ${show(data)}`;
  const dataFile: DataFile = { path: file, size: data.length, mtimeMs: 0, type: 'parquet', key: '', compression: 'none' };
  let ranges: Array<[number, number]>;
  try {
    ranges = await planParquetChunks(dataFile, r.pick([1, 1 << 30]));
  } catch (error) {
    // Planning fails the task's plan with a non-retryable failure of the same type.
    if (!(error instanceof ApplicationFailure) || error.type !== 'SourceFormatError') throw error;
    assert.ok(error.message.startsWith(`${file}: `), `the failure names the file: ${error.message}, ${what}`);
    return 'planning: ' + kindOf({ rows: [], error: { offset: 0, reason: error.message.slice(file.length + 2), message: error.message } });
  }
  let kind = 'read';
  for (const [start, end] of ranges) {
    const got = await outcome(readParquetRows(file, { startRow: start, endRow: end, decodeDeadline: PARQUET_DEADLINE }), file);
    checkOutcome(got, file, start, end - start, PARQUET_PLACE, what);
    for (const row of got.rows) assert.equal(row.values.length, row.columns?.length, `a value per column, ${what}`);
    if (got.error) kind = kindOf(got);
  }
  return kind;
}

/** Decompressed bytes read past this are not kept: a damaged header can make a stream of any length. */
const DECOMPRESSED_CAP = 32 * 1024 * 1024;
const EXTENSIONS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gz', zstd: 'zst', snappy: 'snappy' };

function decompressorMutation(compression: Exclude<Compression, 'none'>): Campaign['run'] {
  return async (r, corpus, scratch) => {
    const seeds = corpus[compression];
    const data = mutate(r, r.pick(seeds), [...PARQUET_TOKENS, 'sNaPpY', '\x1f\x8b\x08', '\x28\xb5\x2f\xfd'], r.pick(seeds));
    const file = path.join(scratch, `fuzz.${EXTENSIONS[compression]}`);
    fs.writeFileSync(file, data);
    const opened = openDataFile(file, compression, 0, 64 * 1024);
    let total = 0;
    try {
      for await (const bytes of opened.bytes) {
        total += bytes.length;
        if (total > DECOMPRESSED_CAP) return 'read (capped)';
      }
      return 'read';
    } catch (error) {
      if (!(error instanceof SourceFormatError)) throw error;
      const what = `${data.length} bytes, ${show(data)}`;
      assert.equal(error.path, file, `the error names the file: ${error.message}, ${what}`);
      assert.equal(error.offset, total, `the error is at the uncompressed offset reached: ${error.message}, ${what}`);
      assert.match(error.message, BYTE_OFFSET, what);
      // The decompressor's own words vary with the damage: the kind is the codec's error, not its text.
      return `${compression} data cannot be decompressed`;
    } finally {
      opened.close();
    }
  };
}

export const campaigns = {
  'sql-roundtrip': { reader: 'SQL (generated, compared value by value)', run: sqlRoundTrip },
  'csv-roundtrip': { reader: 'CSV (generated with random options, compared value by value)', run: csvRoundTrip },
  'sql-mutation': { reader: 'SQL', run: sqlMutation },
  'csv-mutation': { reader: 'CSV with its options', run: csvMutation },
  'parquet-mutation': { reader: 'Parquet', run: parquetMutation },
  'gzip-mutation': { reader: 'gzip', run: decompressorMutation('gzip') },
  'zstd-mutation': { reader: 'zstd', run: decompressorMutation('zstd') },
  'snappy-mutation': { reader: 'snappy', run: decompressorMutation('snappy') },
} satisfies Record<string, Campaign>;
