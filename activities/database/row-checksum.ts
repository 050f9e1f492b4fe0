import { ByteBuilder } from './byte-builder';
import { decimalText } from './decimal-text';
import { numberForm } from './number-form';
import { numericFamilyOf } from './numeric-types';
import { RunningCrc32 } from './running-crc32';
import { quoteName } from './sql-text';
import type { TargetColumn } from './table-columns';

/**
 * The content checksum that verification compares: the sum over rows of CRC32 of a row's
 * canonical bytes, which the target computes in SQL as
 * `CONCAT_WS(0x1f, value…, null bitmap…)`: the non-NULL values as the target shows them, in column
 * order, a string-like value preceded by its byte length (so no byte inside it can pass for a
 * boundary), then one word per 32 nullable columns whose bits say which of them are NULL. The
 * source side predicts, per column type, how the target renders what it stored.
 * The target computes this form for 35–65% less CPU than a per-value `IF(… IS NULL, …)` framing
 * (measured per table of bench/import-speed's dump): that scan is most of verification's price.
 * NOT NULL columns have no bit: evaluating `c IS NULL` for them cost a tenth of the scan of a table
 * with a few of them, and over a quarter for one with only such columns.
 * A sum, unlike XOR, still counts a row that appears twice.
 */

/** Tasks record which encoding their chunks' checksums use: one started with another cannot compare contents. */
export const CHECKSUM_VERSION = 3;

const SEPARATOR = 0x1f;
const NULL_WORD_BITS = 32;

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
  const numeric = numericFamilyOf(column.dataType);
  if (numeric) return numeric;
  switch (column.dataType) {
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
    case 'year':
      return 'bytes';
    case 'date':
      return 'date';
    case 'datetime':
    case 'timestamp':
      return 'datetime';
    case 'time':
      return 'time';
    // A JSON column is a `json` type only on MySQL and TiDB (MariaDB's is a longtext), which both
    // store a normalised document: its text is not the source's, so it is left out like any
    // type whose stored form the source cannot predict.
    default:
      return undefined;
  }
}

/** `SUM(CRC32(…))` and `COUNT(*)` over the target table, computed the way `RowChecksummer` does. */
export function targetChecksumSelect(qualifiedTable: string, columns: readonly ChecksumColumn[]): string {
  const values = columns.flatMap(({ column, rendering }) => {
    const name = quoteName(column.name);
    if (rendering === 'approximate') return [`CAST(${name} AS DECIMAL(65, ${approximateScale}))`];
    if (rendering === 'bit') return [`BIN(${name})`];
    return isLengthFramed(rendering) ? [`LENGTH(${name})`, name] : [name];
  });
  const nullable = columns.filter(({ column }) => column.nullable);
  const nullWords: string[] = [];
  for (let first = 0; first < nullable.length; first += NULL_WORD_BITS) {
    const bits = nullable.slice(first, first + NULL_WORD_BITS).map(({ column }, bit) => `((${quoteName(column.name)} IS NULL) << ${bit})`);
    nullWords.push(`(${bits.join(' | ')})`);
  }
  const row = columns.length > 0 ? `CONCAT_WS(0x1f, ${[...values, ...nullWords].join(', ')})` : `''`;
  return `SELECT COUNT(*) AS row_count, CAST(COALESCE(SUM(CRC32(${row})), 0) AS CHAR) AS checksum FROM ${qualifiedTable}`;
}

/** Renderings whose text may hold any byte, the separator included: they carry their length. */
function isLengthFramed(rendering: Rendering): boolean {
  return rendering === 'bytes' || rendering === 'padded-char' || rendering === 'fixed-binary';
}

/**
 * Hashes rows' canonical bytes value by value as a reader finds them, without copying values that
 * come in column order (nearly all rows): this runs for every value imported. Values are given with
 * the index of their column in `columns`; a string or literal straight from the file's bytes takes
 * the fast path when it is already in the form the target shows.
 */
export class RowChecksummer {
  private readonly crc = new RunningCrc32();
  private readonly lengthFramed: Uint8Array;
  /** Each column's bit among the nullable ones (-1: NOT NULL), and the words they make up. */
  private readonly nullBits: Int32Array;
  private readonly nullWords: Uint32Array;
  /** The row's values came in `columns` order, each once: hashed as they come, else gathered first. */
  private inOrder = true;
  /** Values of a row that comes in another order, and where each column's lies (-1: NULL). */
  private readonly gathered = new ByteBuilder(1024);
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** A value (or null word) is hashed already: the next one follows a separator. */
  private separate = false;
  /** A value of the row has a stored form the source cannot predict. */
  private unknown = false;

  constructor(private readonly columns: readonly ChecksumColumn[]) {
    this.starts = new Int32Array(columns.length);
    this.ends = new Int32Array(columns.length);
    this.lengthFramed = Uint8Array.from(columns, ({ rendering }) => (isLengthFramed(rendering) ? 1 : 0));
    let nullable = 0;
    this.nullBits = Int32Array.from(columns, ({ column }) => (column.nullable ? nullable++ : -1));
    this.nullWords = new Uint32Array(Math.ceil(nullable / NULL_WORD_BITS));
  }

  /** `inOrder`: the row's values will come in `columns` order, each once. */
  startRow(inOrder: boolean): void {
    this.crc.reset();
    this.inOrder = inOrder;
    this.gathered.length = 0;
    for (let word = 0; word < this.nullWords.length; word++) this.nullWords[word] = 0;
    this.separate = false;
    this.unknown = false;
  }

  nullValue(index: number): void {
    // A NOT NULL column has no bit: its NULL is only left out. Where the target stores something
    // in its place (a default, in a lax sql_mode), its rendering is one more field: the sums differ.
    const bit = this.nullBits[index];
    if (bit >= 0) this.nullWords[bit >>> 5] |= 1 << (bit & 31);
    this.starts[index] = -1;
  }

  /** The bytes of a string, src[start, end). */
  stringValue(index: number, src: Buffer, start: number, end: number): void {
    const { rendering, column } = this.columns[index];
    if (rendering === 'bytes') return this.shown(index, src, start, end);
    if (rendering === 'padded-char') {
      while (end > start && src[end - 1] === 0x20) end--;
      return this.shown(index, src, start, end);
    }
    if ((rendering === 'date' || rendering === 'datetime') && isCanonicalTemporal(src, start, end, rendering, column.datetimePrecision ?? 0)) {
      return this.shown(index, src, start, end);
    }
    this.value(index, src.subarray(start, end));
  }

  /** An unquoted literal's text, src[start, end): a number, `0x…`, TRUE or FALSE, of `numberForm` `form`. */
  literalValue(index: number, src: Buffer, start: number, end: number, form: number): void {
    const { rendering, column } = this.columns[index];
    if (rendering === 'integer' && form === 0) return this.shown(index, src, start, end);
    if (rendering === 'decimal' && form === (column.numericScale ?? 0)) return this.shown(index, src, start, end);
    this.value(index, src.toString('latin1', start, end));
  }

  /** Any value as a SourceValue says it: a string's bytes, or a literal's text. */
  value(index: number, value: Buffer | string): void {
    const shown = canonicalForm(this.columns[index], value);
    if (shown === undefined) {
      this.unknown = true;
      return;
    }
    const bytes = typeof shown === 'string' ? Buffer.from(shown, 'latin1') : shown;
    this.shown(index, bytes, 0, bytes.length);
  }

  /**
   * CRC32 of the row's canonical bytes; `undefined` when a value's stored form cannot be predicted
   * (the row is still imported; verification then compares the row count only).
   */
  endRow(): number | undefined {
    if (this.unknown) return undefined;
    if (!this.inOrder) {
      const buffer = this.gathered.buffer;
      for (let index = 0; index < this.columns.length; index++) {
        if (this.starts[index] >= 0) this.hash(index, buffer, this.starts[index], this.ends[index]);
      }
    }
    for (const word of this.nullWords) {
      if (this.separate) this.crc.byte(SEPARATOR);
      this.separate = true;
      this.crc.decimal(word);
    }
    return this.crc.value;
  }

  /** A value the target shows as src[start, end). */
  private shown(index: number, src: Buffer, start: number, end: number): void {
    if (this.inOrder) return this.hash(index, src, start, end);
    this.starts[index] = this.gathered.length;
    this.gathered.range(src, start, end);
    this.ends[index] = this.gathered.length;
  }

  /** Column `index`'s value, src[start, end), after a separator unless it is the row's first, behind its length when it may hold any byte. */
  private hash(index: number, src: Buffer, start: number, end: number): void {
    const crc = this.crc;
    if (this.separate) crc.byte(SEPARATOR);
    this.separate = true;
    if (this.lengthFramed[index]) {
      crc.decimal(end - start);
      crc.byte(SEPARATOR);
    }
    crc.bytes(src, start, end);
  }
}

/** How the target shows a stored value: bytes, or text of one-byte characters. */
function canonicalForm({ column, rendering }: ChecksumColumn, value: Buffer | string): Buffer | string | undefined {
  switch (rendering) {
    case 'integer':
      return numericText(value, 0);
    case 'decimal':
      return numericText(value, column.numericScale ?? 0);
    case 'approximate':
      return approximateText(value, column.dataType === 'float');
    case 'bit':
      return integerOf(value)?.toString(2);
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
      if (!bytes || bytes.length >= length) return bytes;
      return Buffer.concat([bytes, Buffer.alloc(length - bytes.length)]);
    }
    case 'bytes':
      return stringBytes(value);
    case 'date':
    case 'datetime':
    case 'time':
      if (typeof value === 'string') return undefined;
      if (isCanonicalTemporal(value, 0, value.length, rendering, column.datetimePrecision ?? 0)) return value;
      return temporalText(value.toString('latin1'), rendering, column.datetimePrecision ?? 0);
  }
}

/** A number given as a literal or as text (CSV), shown at `scale`; hex and bit literals are integers. */
function numericText(value: Buffer | string, scale: number): string | undefined {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  if (numberForm(bytes, 0, bytes.length) === scale) return text;
  if (typeof value === 'string' && /^(0x|b')/i.test(value)) {
    const integer = integerOf(value);
    return integer === undefined ? undefined : decimalText(integer.toString(), scale);
  }
  return decimalText(text, scale);
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

/** src[start, end) is `YYYY-MM-DD[ hh:mm:ss[.f…]]` already at the column's precision (the form dumps write), checked without a regex. */
function isCanonicalTemporal(src: Buffer, start: number, end: number, rendering: 'date' | 'datetime' | 'time', precision: number): boolean {
  if (rendering === 'time') return false;
  const length = rendering === 'date' ? 10 : 19 + (precision > 0 ? precision + 1 : 0);
  if (end - start !== length || src[start + 4] !== 45 || src[start + 7] !== 45) return false;
  if (rendering === 'datetime' && (src[start + 10] !== 32 || src[start + 13] !== 58 || src[start + 16] !== 58 || (precision > 0 && src[start + 19] !== 46))) return false;
  for (let i = 0; i < length; i++) {
    const code = src[start + i];
    if ((code < 48 || code > 57) && i !== 4 && i !== 7 && i !== 10 && i !== 13 && i !== 16 && i !== 19) return false;
  }
  return true;
}

const datePattern = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d*))?)?$/;
const timePattern = /^(-?)(\d{1,3}):(\d{1,2}):(\d{1,2})(?:\.(\d*))?$/;

/**
 * Dates and times as the target shows them, or undefined when that depends on the server: a
 * fraction finer than the column's precision is cut by MariaDB and rounded by MySQL and TiDB
 * (which may carry into the seconds and on to the date).
 */
function temporalText(text: string, rendering: 'date' | 'datetime' | 'time', precision: number): string | undefined {
  const finer = (digits: string | undefined) => digits !== undefined && /[1-9]/.test(digits.slice(precision));
  const fraction = (digits: string | undefined) => (precision > 0 ? '.' + (digits ?? '').padEnd(precision, '0').slice(0, precision) : '');
  const two = (digits: string) => digits.padStart(2, '0');
  if (rendering === 'time') {
    const match = timePattern.exec(text);
    if (!match || finer(match[5])) return undefined;
    return `${match[1]}${two(match[2])}:${two(match[3])}:${two(match[4])}${fraction(match[5])}`;
  }
  const match = datePattern.exec(text);
  if (!match || finer(match[7])) return undefined;
  const date = `${match[1]}-${two(match[2])}-${two(match[3])}`;
  if (rendering === 'date') return date;
  return `${date} ${two(match[4] ?? '0')}:${two(match[5] ?? '0')}:${two(match[6] ?? '0')}${fraction(match[7])}`;
}
