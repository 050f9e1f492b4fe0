import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { SchemaElement } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import type { DataFile } from '../../activities/source/layout-types';
import { planParquetChunks, readParquetRows } from '../../activities/source/parquet-reader';
import { SourceFormatError, type SourceRow, type SourceValue } from '../../activities/source/row';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-parquet-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const bytes = (text: string) => Buffer.from(text, 'utf8');
const uuid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

/** One column of the test file: its schema element, its values as written, and the SourceValues expected back. */
interface Column {
  element: SchemaElement;
  data: unknown[];
  expected: SourceValue[];
}

const optional = (element: Omit<SchemaElement, 'repetition_type'>): SchemaElement => ({ ...element, repetition_type: 'OPTIONAL' });

/** Seven rows; the third is all NULL (but its id). */
const columns: Column[] = [
  { element: { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' }, data: [1, 2, 3, 4, 5, 6, 7], expected: ['1', '2', '3', '4', '5', '6', '7'] },
  {
    element: optional({ name: 'big', type: 'INT64' }),
    data: [9007199254740993n, -9223372036854775808n, null, 0n, 1n, -1n, 9223372036854775807n],
    expected: ['9007199254740993', '-9223372036854775808', null, '0', '1', '-1', '9223372036854775807'],
  },
  { element: optional({ name: 'tiny', type: 'INT32', converted_type: 'INT_8' }), data: [-128, 127, null, 0, 1, 2, 3], expected: ['-128', '127', null, '0', '1', '2', '3'] },
  {
    element: optional({ name: 'u32', type: 'INT32', converted_type: 'UINT_32' }),
    data: [4294967295, 0, null, 2147483648, 1, 2, 3],
    expected: ['4294967295', '0', null, '2147483648', '1', '2', '3'],
  },
  {
    element: optional({ name: 'u64', type: 'INT64', converted_type: 'UINT_64' }),
    data: [18446744073709551615n, 0n, null, 1n, 2n, 3n, 4n],
    expected: ['18446744073709551615', '0', null, '1', '2', '3', '4'],
  },
  {
    element: optional({ name: 'dec9', type: 'INT32', converted_type: 'DECIMAL', precision: 9, scale: 2 }),
    data: [12345n, -5n, null, 0n, 100n, -999999999n, 1n],
    expected: ['123.45', '-0.05', null, '0.00', '1.00', '-9999999.99', '0.01'],
  },
  {
    element: optional({ name: 'dec18', type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 4 }),
    data: [999999999999999999n, -1n, null, 0n, 12345678n, 10000n, -123456789012345678n],
    expected: ['99999999999999.9999', '-0.0001', null, '0.0000', '1234.5678', '1.0000', '-12345678901234.5678'],
  },
  {
    element: optional({ name: 'dec38', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: 10 }),
    data: [12345678901234567890123456789012345678n, -1n, null, 0n, 10000000000n, -99999999999999999999999999999999999999n, 5n],
    expected: ['1234567890123456789012345678.9012345678', '-0.0000000001', null, '0.0000000000', '1.0000000000', '-9999999999999999999999999999.9999999999', '0.0000000005'],
  },
  { element: optional({ name: 'f', type: 'FLOAT' }), data: [0.1, -2.5, null, 0, 3.4028234663852886e38, 1e-7, 16777216], expected: ['0.1', '-2.5', null, '0', '3.4028235e+38', '1e-7', '16777216'] },
  {
    element: optional({ name: 'd', type: 'DOUBLE' }),
    data: [0.1, -2.5, null, 0, 1.7976931348623157e308, 5e-324, 123456789.123456789],
    expected: ['0.1', '-2.5', null, '0', '1.7976931348623157e+308', '5e-324', '123456789.12345679'],
  },
  {
    element: optional({ name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    data: ['héllo', "it's \\ \"q\"\n", null, '', '東京', '𠀀', 'x'],
    expected: [bytes('héllo'), bytes("it's \\ \"q\"\n"), null, bytes(''), bytes('東京'), bytes('𠀀'), bytes('x')],
  },
  {
    element: optional({ name: 'b', type: 'BYTE_ARRAY' }),
    data: [new Uint8Array([0, 1, 255]), new Uint8Array([]), null, new Uint8Array([0x27, 0x5c]), new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])],
    expected: [Buffer.from([0, 1, 255]), Buffer.alloc(0), null, Buffer.from([0x27, 0x5c]), Buffer.from([1]), Buffer.from([2]), Buffer.from([3])],
  },
  {
    element: optional({ name: 'day', type: 'INT32', converted_type: 'DATE' }),
    data: [0, 19000, null, -1, 2932896, -354285, 1],
    expected: ['1970-01-01', '2022-01-08', null, '1969-12-31', '9999-12-31', '1000-01-01', '1970-01-02'].map((text) => text && bytes(text)),
  },
  {
    element: optional({ name: 'ts_ms', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }),
    data: [0n, 1700000000123n, null, -1n, 1000n, 86400000n, 253402300799999n],
    expected: ['1970-01-01 00:00:00', '2023-11-14 22:13:20.123', null, '1969-12-31 23:59:59.999', '1970-01-01 00:00:01', '1970-01-02 00:00:00', '9999-12-31 23:59:59.999'].map((text) => text && bytes(text)),
  },
  {
    element: optional({ name: 'ts_us', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } }),
    data: [1700000000123456n, 1n, null, -1n, 0n, 1700000000000000n, 1700000000000010n],
    expected: ['2023-11-14 22:13:20.123456', '1970-01-01 00:00:00.000001', null, '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00', '2023-11-14 22:13:20', '2023-11-14 22:13:20.000010'].map(
      (text) => text && bytes(text),
    ),
  },
  {
    element: optional({ name: 'ts_ns', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'NANOS' } }),
    data: [1700000000123456789n, 1n, null, 0n, 2n, 3n, 4n],
    expected: ['2023-11-14 22:13:20.123456789', '1970-01-01 00:00:00.000000001', null, '1970-01-01 00:00:00', '1970-01-01 00:00:00.000000002', '1970-01-01 00:00:00.000000003', '1970-01-01 00:00:00.000000004'].map(
      (text) => text && bytes(text),
    ),
  },
  {
    element: optional({ name: 't', type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } }),
    data: [0n, 45296789012n, null, 86399999999n, 1n, 2n, 3n],
    expected: ['00:00:00', '12:34:56.789012', null, '23:59:59.999999', '00:00:00.000001', '00:00:00.000002', '00:00:00.000003'].map((text) => text && bytes(text)),
  },
  { element: optional({ name: 'flag', type: 'BOOLEAN' }), data: [true, false, null, true, false, true, false], expected: ['1', '0', null, '1', '0', '1', '0'] },
  {
    element: optional({ name: 'u', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }),
    data: [uuid, uuid, null, uuid, uuid, uuid, uuid],
    expected: [bytes('01234567-89ab-cdef-0123-456789abcdef'), bytes('01234567-89ab-cdef-0123-456789abcdef'), null, ...Array(4).fill(bytes('01234567-89ab-cdef-0123-456789abcdef'))],
  },
  {
    element: optional({ name: 'j', type: 'BYTE_ARRAY', converted_type: 'JSON' }),
    data: [{ a: 1 }, [1, 'x'], null, 'text', 2, true, { b: null }],
    expected: ['{"a":1}', '[1,"x"]', null, '"text"', '2', 'true', '{"b":null}'].map((text) => text && bytes(text)),
  },
];

function writeFile(name: string, fileColumns: readonly Column[], rowGroupSize: number): DataFile {
  const filename = path.join(dir, name);
  parquetWriteFile({
    filename,
    columnData: fileColumns.map(({ element, data }) => ({ name: element.name, data: data as never })),
    schema: [{ name: 'root', num_children: fileColumns.length }, ...fileColumns.map((column) => column.element)],
    rowGroupSize,
  });
  return { path: filename, size: fs.statSync(filename).size, mtimeMs: 0, type: 'parquet', key: '', compression: 'none' };
}

async function read(file: string, startRow: number, endRow: number): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const group of readParquetRows(file, { startRow, endRow })) rows.push(...group);
  return rows;
}

const file = writeFile('all-types.parquet', columns, 3);

test('every type comes back as the SourceValue the target expects, NULLs included, with the file’s column names', async () => {
  const rows = await read(file.path, 0, 7);
  assert.equal(rows.length, 7);
  for (const [i, row] of rows.entries()) {
    assert.deepEqual(row.columns, columns.map((column) => column.element.name));
    assert.equal(row.endOffset, i + 1, 'a row ends at its index + 1');
    for (const [j, column] of columns.entries()) {
      assert.deepEqual(row.values[j], column.expected[i], `row ${i}, column ${column.element.name}`);
    }
  }
});

test('a row range reads only its rows, across row groups', async () => {
  const rows = await read(file.path, 2, 5);
  assert.deepEqual(
    rows.map((row) => row.endOffset),
    [3, 4, 5],
  );
  assert.deepEqual(
    rows.map((row) => row.values[0]),
    ['3', '4', '5'],
  );
  assert.equal((await read(file.path, 7, 7)).length, 0);
});

test('chunks are runs of whole row groups, cut by max-region-size', async () => {
  assert.deepEqual(await planParquetChunks(file, 1), [
    [0, 3],
    [3, 6],
    [6, 7],
  ]);
  assert.deepEqual(await planParquetChunks(file, 1 << 30), [[0, 7]]);
  const empty = writeFile('empty.parquet', [{ element: { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' }, data: [], expected: [] }], 10);
  assert.deepEqual(await planParquetChunks(empty, 1), [[0, 0]]);
  await assert.rejects(planParquetChunks({ ...file, compression: 'gzip' }, 1), /compresses its own pages/);
});

test('values MySQL cannot hold, nested columns and damaged files are SourceFormatErrors that say where', async () => {
  const nan = writeFile('nan.parquet', [{ element: optional({ name: 'd', type: 'DOUBLE' }), data: [1, 2, NaN], expected: [] }], 2);
  await assert.rejects(read(nan.path, 0, 3), (error: SourceFormatError) => {
    assert.ok(error instanceof SourceFormatError);
    assert.equal(error.offset, 2);
    assert.match(error.message, /: row group 1, row 0 of the group \(row 2 of the file\): column `d`: NaN cannot be stored in MySQL/);
    return true;
  });

  const nested = path.join(dir, 'nested.parquet');
  parquetWriteFile({
    filename: nested,
    columnData: [
      { name: 'id', data: [1, 2] },
      { name: 'l', data: [[1, 2], [3]] },
    ],
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'l', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' },
    ],
  });
  await assert.rejects(read(nested, 0, 2), /: schema: column `l` is a nested or repeated column/);

  const garbage = path.join(dir, 'garbage.parquet');
  fs.writeFileSync(garbage, 'id,name\n1,x\n');
  await assert.rejects(read(garbage, 0, 1), /: file footer: this is not a readable Parquet file/);
  const cut = path.join(dir, 'cut.parquet');
  const whole = fs.readFileSync(file.path);
  // Keep the footer, break the first column chunk's pages.
  fs.writeFileSync(cut, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(200, 0xff), whole.subarray(204)]));
  await assert.rejects(read(cut, 0, 7), (error: SourceFormatError) => {
    assert.ok(error instanceof SourceFormatError);
    assert.match(error.message, /: row group 0, row 0 of the group \(row 0 of the file\): the row group cannot be read/);
    return true;
  });
});

test('a damaged page that would keep the decoder busy for minutes fails its row group within the deadline, and the reader goes on', async () => {
  // Found by the Parquet fuzz campaign: a run-length header claiming billions of values, which
  // hyparquet writes one by one in a single synchronous step.
  const damaged = path.join(__dirname, '../../../test/fixtures/parquet/run-length-claims-billions.parquet');
  const started = Date.now();
  await assert.rejects(
    async () => {
      for await (const group of readParquetRows(damaged, { startRow: 0, endRow: 36, decodeDeadline: { baseMs: 1500, msPerMiB: 0 } })) void group;
    },
    (error: SourceFormatError) => {
      assert.ok(error instanceof SourceFormatError);
      assert.match(error.message, /run-length-claims-billions\.parquet: row group \d+, row 0 of the group \(row \d+ of the file\): decoding the row group took longer than 2 s/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 60_000, 'the chunk failed instead of hanging');
  // The stuck decoder was stopped: another file reads at once.
  assert.equal((await read(file.path, 0, 7)).length, 7);
});
