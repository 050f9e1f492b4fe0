import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultSetHeader } from 'mysql2/promise';
import { loadColumnKinds, LoadDataRows, loadedCleanly, type LoadColumnKind } from '../../activities/database/load-data';
import type { TargetColumn } from '../../activities/database/table-columns';
import { numberForm } from '../../activities/database/number-form';

/** Adds a row as a writer does: a string's bytes or a literal's text per field; a refused literal abandons the row. */
function append(load: LoadDataRows, values: Array<Buffer | string | null>, kinds: LoadColumnKind[]): boolean {
  load.startRow();
  for (const [index, value] of values.entries()) {
    if (value === null) load.nullField();
    else if (typeof value !== 'string') load.stringField(value, 0, value.length);
    else if (!literal(load, value, kinds[index])) {
      load.abandonRow();
      return false;
    }
  }
  load.endRow();
  return true;
}

function literal(load: LoadDataRows, text: string, kind: LoadColumnKind): boolean {
  const bytes = Buffer.from(text, 'latin1');
  return load.literalField(bytes, 0, bytes.length, numberForm(bytes, 0, bytes.length), kind);
}

function encode(rows: Array<Array<Buffer | string | null>>, kinds: LoadColumnKind[]): { text: string; accepted: boolean[] } {
  const load = new LoadDataRows(8);
  const accepted = rows.map((values) => append(load, values, kinds));
  return { text: load.bytes().toString('latin1'), accepted };
}

test('strings go enclosed in quotes, byte for byte, with tab, newline, backslash, NUL and quote escaped; NULL is a bare \\N', () => {
  const { text, accepted } = encode(
    [
      [Buffer.from('a\tb\nc\\d\0e'), null, Buffer.from('\\N')],
      [Buffer.from(''), Buffer.from('NULL'), Buffer.from("中\r'😀", 'utf8')],
    ],
    ['text', 'text', 'text'],
  );
  assert.deepEqual(accepted, [true, true]);
  assert.equal(text, "'a\\tb\\nc\\\\d\\0e'\t\\N\t'\\\\N'\n''\t'NULL'\t'" + Buffer.from("中\r\\'😀", 'utf8').toString('latin1') + "'\n");
});

test('literals go only where the column stores their text as the INSERT would', () => {
  const number: LoadColumnKind[] = ['number'];
  const text: LoadColumnKind[] = ['text'];
  const other: LoadColumnKind[] = ['strings-only'];
  // Numbers in numeric columns: any plain form; TRUE/FALSE are 1 and 0.
  assert.deepEqual(encode([['-12.5e3'], ['+.5'], ['TRUE'], ['false']], number), { text: '-12.5e3\n+.5\n1\n0\n', accepted: [true, true, true, true] });
  // Hex and bit literals are integers there: left to the INSERT.
  assert.deepEqual(encode([['0x41'], ["b'101'"]], number).accepted, [false, false]);
  // In string columns: canonical numbers only (an INSERT stores 007 as 7 and 1e3 as 1000); hex is its bytes.
  assert.deepEqual(encode([['-12.50'], ['0'], ['0x4109'], ['0x141']], text), { text: "-12.50\n0\n'A\\t'\n'\x01A'\n", accepted: [true, true, true, true] });
  assert.deepEqual(encode([['007'], ['1e3'], ['-0'], ['-0.00'], ['1.'], ["X''"]], text).accepted, [false, false, false, false, false, false]);
  // Dates, enums, YEAR…: a number means something else to them.
  assert.deepEqual(encode([['1'], [Buffer.from('2024-01-02')]], other), { text: "'2024-01-02'\n", accepted: [false, true] });
});

test('a refused row leaves nothing behind', () => {
  const load = new LoadDataRows(8);
  assert.equal(append(load, [Buffer.from('kept'), '1'], ['text', 'number']), true);
  assert.equal(append(load, [Buffer.from('dropped'), '0x1'], ['text', 'number']), false);
  assert.equal(load.bytes().toString(), "'kept'\t1\n");
  assert.equal(load.rows, 1);
});

test('a batch turns back into the INSERT rows it stands for: literals as written, strings quoted, NULL, a row half written', () => {
  const load = new LoadDataRows(8);
  const kinds: LoadColumnKind[] = ['number', 'text', 'text'];
  append(load, ['-1.5e3', Buffer.from("tab\tnl\nbs\\nul\0q'"), null], kinds);
  append(load, ['TRUE', Buffer.from('\\N'), Buffer.from('')], kinds);
  append(load, ['7', '0x41', '12'], kinds);
  load.startRow();
  literal(load, '42', 'number');
  load.stringField(Buffer.from(''), 0, 0);
  assert.deepEqual(load.insertRows(), {
    rows: [String.raw`(-1.5e3,'tab\tnl\nbs\\nul\0q\'',NULL)`, String.raw`(1,'\\N','')`, `(7,'A',12)`],
    startedRow: ['42', "''"],
  });
});

test('a string copied as SQL wrote it (raw tabs and newlines, escapes, doubled quotes) turns back into that INSERT string', () => {
  const load = new LoadDataRows(8);
  const written = ["'a\\'b\\\"c\\0\\b\\n\\r\\t\\Z\\\\\\q'", "'tab\there, nl\nthere'", "'it''s'", "''''", "''"];
  load.startRow();
  for (const sql of written) {
    const bytes = Buffer.from(sql, 'latin1');
    load.quotedField(bytes, 0, bytes.length);
  }
  load.endRow();
  load.startRow();
  load.nullField();
  assert.deepEqual(load.insertRows(), { rows: [`(${written.join(',')})`], startedRow: ['NULL'] });
});

test('a number is read once for both its LOAD DATA field and its checksum: plain, canonical at a scale, or not a number', () => {
  const form = (text: string) => numberForm(Buffer.from(text, 'latin1'), 0, text.length);
  assert.deepEqual(['0', '7', '-12', '12.50', '-0.001', '1234567890123'].map(form), [0, 0, 0, 2, 3, 0]);
  // Numbers all the same, but not as the target shows them.
  assert.deepEqual(['+1', '007', '-0', '-0.00', '1.', '.5', '1e3', '-2.5E-3', '00.1'].map(form), Array(9).fill(-2));
  assert.deepEqual(['', '-', '.', '0x41', "b'1'", 'TRUE', '1e', '1e+', '1.2.3', '12a', ' 1'].map(form), Array(11).fill(-1));
});

test('BIT columns take no LOAD DATA; the others are classified by type', () => {
  const column = (dataType: string): TargetColumn => ({ name: dataType, dataType, columnType: dataType, numericScale: null, datetimePrecision: null, octetLength: null, generated: false, nullable: true });
  assert.equal(loadColumnKinds([column('int'), column('bit')]), undefined);
  assert.deepEqual(loadColumnKinds(['bigint', 'double', 'varbinary', 'char', 'datetime', 'enum', 'year', 'json'].map(column)), [
    'number', 'number', 'text', 'text', 'strings-only', 'strings-only', 'strings-only', 'strings-only',
  ]);
});

test('a load counts as done only with every row stored and nothing skipped, replaced or warned about', () => {
  const result = (info: string, affectedRows: number) => ({ info, affectedRows }) as ResultSetHeader;
  assert.equal(loadedCleanly(result('Records: 3  Deleted: 0  Skipped: 0  Warnings: 0', 3), 3), true);
  assert.equal(loadedCleanly(result('Records: 3  Deleted: 0  Skipped: 1  Warnings: 1', 2), 3), false);
  assert.equal(loadedCleanly(result('Records: 3  Deleted: 0  Skipped: 0  Warnings: 2', 3), 3), false);
  assert.equal(loadedCleanly(result('Records: 3  Deleted: 1  Skipped: 0  Warnings: 0', 4), 3), false);
  assert.equal(loadedCleanly(result('Records: 2  Deleted: 0  Skipped: 0  Warnings: 0', 2), 3), false);
  assert.equal(loadedCleanly(result('', 3), 3), false);
});
