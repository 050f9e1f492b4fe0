import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { checksumColumns, RowChecksummer } from '../../activities/target/row-checksum';
import type { TargetColumn } from '../../activities/target/table-columns';

const text: TargetColumn = { name: 's', dataType: 'varchar', columnType: 'varchar(20000)', numericScale: null, datetimePrecision: null, octetLength: null, generated: false };

/** A row's CRC as the target computes it: CRC32 of `V<byte length>:<bytes>` (zlib's CRC32, as MariaDB's CRC32()). */
function expected(value: Buffer): number {
  return zlib.crc32(Buffer.concat([Buffer.from(`V${value.length}:`, 'latin1'), value]));
}

test('a value of any length is framed as V<length>:<bytes>, short rows and long ones alike', () => {
  const checksummer = new RowChecksummer(checksumColumns([text]).covered);
  for (const length of [0, 1, 9, 10, 11, 59, 60, 61, 62, 63, 64, 99, 100, 999, 1000, 12345]) {
    const value = Buffer.from(Array.from({ length }, (_, index) => (index * 37 + length) & 0xff));
    checksummer.startRow();
    checksummer.stringValue(0, value, 0, value.length);
    assert.equal(checksummer.endRow(true), expected(value), `a ${length}-byte value`);
  }
});
