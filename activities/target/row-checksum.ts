import zlib from 'node:zlib';
import type { SourceValue } from '../source/row';
import { decimalText } from './decimal-text';
import { quoteName } from './sql-text';
import type { TargetColumn } from './table-columns';

/**
 * The content checksum that verification compares: the sum over rows of CRC32 of a row's
 * canonical bytes. Each value is `N` for NULL, else `V<byte length>:<bytes as the target shows
 * them>`, so values cannot run into each other. The source side predicts, per column type, how the
 * target renders what it stored; the target side computes the same with SQL.
 * A sum, unlike XOR, still counts a row that appears twice.
 */

type Rendering = 'integer' | 'decimal' | 'approximate' | 'bit' | 'padded-char' | 'fixed-binary' | 'bytes' | 'date' | 'datetime' | 'time';

/** Approximate numbers are compared as DECIMAL(65, 30): both sides agree on that rendering. */
const approximateScale = 30;
const approximateMax = `${'9'.repeat(65 - approximateScale)}.${'9'.repeat(approximateScale)}`;

export interface ChecksumColumn {
  column: TargetColumn;
  rendering: Rendering;
}

/** The columns the checksum covers, and those it cannot (types whose stored form the source cannot predict). */
export function checksumColumns(columns: readonly TargetColumn[]): { covered: ChecksumColumn[]; skipped: string[] } {
  const covered: ChecksumColumn[] = [];
  const skipped: string[] = [];
  for (const column of columns) {
    if (column.generated) continue;
    const rendering = renderingOf(column);
    if (rendering) covered.push({ column, rendering });
    else skipped.push(column.name);
  }
  return { covered, skipped };
}

function renderingOf(column: TargetColumn): Rendering | undefined {
  switch (column.dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
      return 'integer';
    case 'decimal':
    case 'numeric':
    case 'fixed':
      return 'decimal';
    case 'float':
    case 'double':
    case 'real':
      return 'approximate';
    case 'bit':
      return 'bit';
    case 'char':
      return 'padded-char';
    case 'binary':
      return 'fixed-binary';
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'enum':
    case 'set':
    case 'json':
    case 'year':
      return 'bytes';
    case 'date':
      return 'date';
    case 'datetime':
    case 'timestamp':
      return 'datetime';
    case 'time':
      return 'time';
    default:
      return undefined;
  }
}

/** `SUM(CRC32(…))` and `COUNT(*)` over the target table, computed the way `rowChecksum` does. */
export function targetChecksumSelect(qualifiedTable: string, columns: readonly ChecksumColumn[]): string {
  const parts = columns.map(({ column, rendering }) => {
    const name = quoteName(column.name);
    const shown = rendering === 'approximate' ? `CAST(${name} AS DECIMAL(65, ${approximateScale}))` : rendering === 'bit' ? `BIN(${name})` : name;
    return `IF(${name} IS NULL, 'N', CONCAT('V', LENGTH(${shown}), ':', ${shown}))`;
  });
  const row = parts.length > 0 ? `CONCAT(${parts.join(', ')})` : `''`;
  return `SELECT COUNT(*) AS row_count, CAST(COALESCE(SUM(CRC32(${row})), 0) AS CHAR) AS checksum FROM ${qualifiedTable}`;
}

const nullPart = Buffer.from('N');

/**
 * CRC32 of one source row's canonical bytes; `undefined` when a value's stored form cannot be
 * predicted (the row is still imported; verification then compares the row count only).
 * `values[i]` is the value for `columns[i]`; `undefined` means the row gave the column no value.
 */
export function rowChecksum(columns: readonly ChecksumColumn[], values: ReadonlyArray<SourceValue | undefined>): number | undefined {
  let crc = 0;
  for (let i = 0; i < columns.length; i++) {
    const value = values[i];
    if (value === undefined) return undefined;
    if (value === null) {
      crc = zlib.crc32(nullPart, crc);
      continue;
    }
    const shown = canonicalBytes(columns[i], value);
    if (shown === undefined) return undefined;
    crc = zlib.crc32(`V${shown.length}:`, crc);
    // Node 20's crc32 returns 0 for some empty views instead of the running value: skip them.
    if (shown.length > 0) crc = zlib.crc32(shown, crc);
  }
  return crc;
}

export function canonicalBytes({ column, rendering }: ChecksumColumn, value: Buffer | string): Buffer | undefined {
  switch (rendering) {
    case 'integer':
      return asciiOrUndefined(numericText(value, 0));
    case 'decimal':
      return asciiOrUndefined(numericText(value, column.numericScale ?? 0));
    case 'approximate':
      return asciiOrUndefined(approximateText(value, column.dataType === 'float'));
    case 'bit': {
      const bits = integerOf(value);
      return bits === undefined ? undefined : Buffer.from(bits.toString(2));
    }
    case 'padded-char': {
      const bytes = stringBytes(value);
      if (!bytes) return undefined;
      let end = bytes.length;
      while (end > 0 && bytes[end - 1] === 0x20) end--;
      return bytes.subarray(0, end);
    }
    case 'fixed-binary': {
      const bytes = stringBytes(value);
      const length = column.octetLength ?? 0;
      if (!bytes || bytes.length > length) return bytes;
      return Buffer.concat([bytes, Buffer.alloc(length - bytes.length)]);
    }
    case 'bytes':
      return stringBytes(value);
    case 'date':
    case 'datetime':
    case 'time':
      return asciiOrUndefined(typeof value === 'string' ? undefined : temporalText(value.toString('latin1'), rendering, column.datetimePrecision ?? 0));
  }
}

function asciiOrUndefined(text: string | undefined): Buffer | undefined {
  return text === undefined ? undefined : Buffer.from(text, 'latin1');
}

/** A number given as a literal or as text (CSV), shown at `scale`; hex and bit literals are integers. */
function numericText(value: Buffer | string, scale: number): string | undefined {
  if (typeof value === 'string' && /^(0x|b')/i.test(value)) {
    const integer = integerOf(value);
    return integer === undefined ? undefined : decimalText(integer.toString(), scale);
  }
  return decimalText(typeof value === 'string' ? value : value.toString('latin1'), scale);
}

function approximateText(value: Buffer | string, singlePrecision: boolean): string | undefined {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  let number = Number(text);
  if (singlePrecision) number = Math.fround(number);
  if (!Number.isFinite(number)) return undefined;
  // String(number) is the shortest text that reads back as the same double: the target converts a
  // double to DECIMAL from that same shortest form.
  const shown = decimalText(String(number), approximateScale);
  if (shown === undefined) return undefined;
  const integerDigits = shown.replace(/^-/, '').indexOf('.');
  if (integerDigits > 65 - approximateScale) return (number < 0 ? '-' : '') + approximateMax;
  return shown;
}

/** Hex (`0x…`, `X'…'` normalised by the readers to `0x…`), bit (`b'…'`) and decimal literals, or bytes (big-endian). */
function integerOf(value: Buffer | string): bigint | undefined {
  if (typeof value !== 'string') return value.length === 0 ? 0n : BigInt('0x' + value.toString('hex'));
  if (/^0x[0-9a-f]*$/i.test(value)) return value.length === 2 ? 0n : BigInt(value);
  if (/^x''$/i.test(value)) return 0n;
  const bits = /^b'([01]*)'$/i.exec(value);
  if (bits) return bits[1] === '' ? 0n : BigInt('0b' + bits[1]);
  return /^\s*\+?\d+\s*$/.test(value) ? BigInt(value.trim().replace(/^\+/, '')) : undefined;
}

/** What a string column stores for a value: its bytes, the bytes a hex or bit literal spells, or a number's text. */
function stringBytes(value: Buffer | string): Buffer | undefined {
  if (typeof value !== 'string') return value;
  if (/^x''$/i.test(value)) return Buffer.alloc(0);
  if (/^0x/i.test(value) || /^b'/i.test(value)) {
    const integer = integerOf(value);
    if (integer === undefined) return undefined;
    const hexDigits = /^0x/i.test(value) ? value.slice(2) : integer === 0n ? '' : integer.toString(16);
    return Buffer.from(hexDigits.length % 2 ? '0' + hexDigits : hexDigits, 'hex');
  }
  return /^[+-]?\d+(\.\d+)?$/.test(value) ? Buffer.from(value, 'latin1') : undefined;
}

const datePattern = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d*))?)?$/;
const timePattern = /^(-?)(\d{1,3}):(\d{1,2}):(\d{1,2})(?:\.(\d*))?$/;

/** Dates and times as the target shows them; fractions are cut (not rounded) to the column's precision, as MariaDB does. */
function temporalText(text: string, rendering: 'date' | 'datetime' | 'time', precision: number): string | undefined {
  const fraction = (digits: string | undefined) => (precision > 0 ? '.' + (digits ?? '').padEnd(precision, '0').slice(0, precision) : '');
  const two = (digits: string) => digits.padStart(2, '0');
  if (rendering === 'time') {
    const match = timePattern.exec(text);
    if (!match) return undefined;
    return `${match[1]}${two(match[2])}:${two(match[3])}:${two(match[4])}${fraction(match[5])}`;
  }
  const match = datePattern.exec(text);
  if (!match) return undefined;
  const date = `${match[1]}-${two(match[2])}-${two(match[3])}`;
  if (rendering === 'date') return date;
  return `${date} ${two(match[4] ?? '0')}:${two(match[5] ?? '0')}:${two(match[6] ?? '0')}${fraction(match[7])}`;
}
