import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { checksumColumns, RowChecksummer } from '../../activities/database/row-checksum';
import type { TargetColumn } from '../../activities/database/table-columns';

function column(name: string, dataType: string, extra: Partial<TargetColumn> = {}): TargetColumn {
  return { name, dataType, columnType: dataType, numericScale: null, datetimePrecision: null, octetLength: null, generated: false, nullable: true, ...extra };
}

const text = column('s', 'varchar');

/** zlib's CRC32 (MariaDB's CRC32()) of the parts joined by the 0x1f separator, as CONCAT_WS(0x1f, …) joins them. */
function crcOf(...parts: (string | Buffer)[]): number {
  const separated = parts.flatMap((part, index) => [...(index > 0 ? [Buffer.from([0x1f])] : []), Buffer.from(part as string)]);
  return zlib.crc32(Buffer.concat(separated));
}

test('a string value of any length is framed by its byte length, short rows and long ones alike', () => {
  const checksummer = new RowChecksummer(checksumColumns([text]).covered);
  for (const length of [0, 1, 9, 10, 11, 59, 60, 61, 62, 63, 64, 99, 100, 999, 1000, 12345]) {
    const value = Buffer.from(Array.from({ length }, (_, index) => (index * 37 + length) & 0xff));
    checksummer.startRow(true);
    checksummer.stringValue(0, value, 0, value.length);
    assert.equal(checksummer.endRow(), crcOf(String(length), value, '0'), `a ${length}-byte value`);
  }
});

test('NULLs are left out of the values and set their column’s bit in the null words, one word per 32 columns', () => {
  const columns = Array.from({ length: 40 }, (_, index) => column(`c${index}`, 'int'));
  const checksummer = new RowChecksummer(checksumColumns(columns).covered);
  checksummer.startRow(true);
  for (let index = 0; index < 40; index++) {
    if (index === 0 || index === 31 || index === 33) checksummer.nullValue(index);
    else checksummer.value(index, String(index));
  }
  const values = Array.from({ length: 40 }, (_, index) => String(index)).filter((_, index) => ![0, 31, 33].includes(index));
  assert.equal(checksummer.endRow(), crcOf(...values, String(2 ** 31 + 1), String(2)));
});

test('NOT NULL columns have no bit: the words count the nullable columns only, and a table of none has no word', () => {
  // 40 columns, every other one NOT NULL: 20 nullable ones make one word.
  const columns = Array.from({ length: 40 }, (_, index) => column(`c${index}`, 'int', { nullable: index % 2 === 1 }));
  const checksummer = new RowChecksummer(checksumColumns(columns).covered);
  checksummer.startRow(true);
  for (let index = 0; index < 40; index++) {
    if (index === 1 || index === 39) checksummer.nullValue(index);
    else checksummer.value(index, String(index));
  }
  const values = Array.from({ length: 40 }, (_, index) => String(index)).filter((_, index) => index !== 1 && index !== 39);
  // c1 is the first nullable column (bit 0), c39 the twentieth (bit 19).
  assert.equal(checksummer.endRow(), crcOf(...values, String(2 ** 19 + 1)));

  const required = new RowChecksummer(checksumColumns([column('a', 'int', { nullable: false }), column('b', 'varchar', { nullable: false })]).covered);
  required.startRow(true);
  required.value(0, '7');
  required.value(1, Buffer.from('x'));
  assert.equal(required.endRow(), crcOf('7', '1', 'x'));
});

test('a row of NULLs only is its null words; no columns at all is the empty row', () => {
  const checksummer = new RowChecksummer(checksumColumns([text, column('n', 'int')]).covered);
  checksummer.startRow(true);
  checksummer.nullValue(0);
  checksummer.nullValue(1);
  assert.equal(checksummer.endRow(), crcOf('3'));

  const none = new RowChecksummer([]);
  none.startRow(true);
  assert.equal(none.endRow(), 0);
});

test('values given out of column order checksum as in column order', () => {
  const columns = [column('a', 'int'), text, column('d', 'date')];
  const inOrder = new RowChecksummer(checksumColumns(columns).covered);
  inOrder.startRow(true);
  inOrder.value(0, '7');
  inOrder.nullValue(1);
  inOrder.value(2, Buffer.from('2024-02-29'));
  const shuffled = new RowChecksummer(checksumColumns(columns).covered);
  shuffled.startRow(false);
  shuffled.value(2, Buffer.from('2024-02-29'));
  shuffled.nullValue(1);
  shuffled.value(0, '7');
  const expected = crcOf('7', '2024-02-29', '2');
  assert.equal(inOrder.endRow(), expected);
  assert.equal(shuffled.endRow(), expected);
});

test('a time finer than its column is not predicted (MariaDB cuts it, MySQL and TiDB round it); zeros past the precision are', () => {
  const datetime = column('d', 'datetime', { datetimePrecision: 3, nullable: false });
  const checksummer = new RowChecksummer(checksumColumns([datetime]).covered);
  const rowOf = (value: string) => {
    checksummer.startRow(true);
    checksummer.value(0, Buffer.from(value));
    return checksummer.endRow();
  };
  assert.equal(rowOf('2001-01-01 1:2:3.45678'), undefined, 'five digits into a DATETIME(3)');
  assert.equal(rowOf('2001-01-01 23:59:59.9996'), undefined, 'one that rounds into the next day');
  assert.equal(rowOf('2001-01-01 1:2:3.45600'), crcOf('2001-01-01 01:02:03.456'));
});
