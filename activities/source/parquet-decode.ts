/**
 * Decoding of Parquet row groups into SourceRows, with hyparquet (and hyparquet-compressors for the
 * codecs beyond snappy: gzip, zstd, brotli, lz4). It runs in a thread of its own (see
 * parquet-reader.ts): hyparquet decodes a page in one synchronous step, which a damaged file can
 * make last for minutes.
 *
 * Values are sent as the target expects them (see SourceValue): integers, decimals (exact, from
 * their unscaled integer), floats and booleans (`1`/`0`) as unquoted literals; strings and binary as
 * bytes; dates as `YYYY-MM-DD`, timestamps as `YYYY-MM-DD hh:mm:ss[.fraction]` in UTC and times as
 * `hh:mm:ss[.fraction]`, quoted. hyparquet is asked for the columns' physical values (their
 * annotations removed) and this file applies the annotations itself, because hyparquet's own
 * conversions turn decimals and 64-bit timestamps into JavaScript numbers and dates, which lose digits.
 * The rows' column names are the file's, so they map onto the target table by name.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { SourceFormatError, type SourceRow, type SourceValue } from './row';

/** Rows handed on at a time: a row group is cut into groups this size so the chunk heartbeats as it goes. */
const ROWS_PER_YIELD = 4096;

export interface ParquetReadOptions {
  /** First row to read (index in the file). */
  startRow: number;
  /** One past the last row to read. */
  endRow: number;
}

/** A row group about to be decoded: where it is, and its size (compressed, as stored). */
export interface RowGroupStart {
  index: number;
  firstRow: number;
  from: number;
  compressedBytes: number;
}

/**
 * Yields the rows `startRow` to `endRow` of a Parquet file, reading only the row groups that hold
 * them; `onRowGroup` hears of each before it is decoded.
 */
export async function* decodeParquetRows(path: string, options: ParquetReadOptions, onRowGroup: (group: RowGroupStart) => void): AsyncGenerator<SourceRow[]> {
  const { file, metadata } = await openParquet(path);
  const columns = flatColumns(metadata, path);
  const names = columns.map((column) => column.name);
  const physical: FileMetaData = { ...metadata, schema: metadata.schema.map((element, index) => (index === 0 ? element : withoutAnnotations(element))) };
  let groupStart = 0;
  for (const [groupIndex, group] of metadata.row_groups.entries()) {
    const groupEnd = groupStart + Number(group.num_rows);
    const from = Math.max(groupStart, options.startRow);
    const to = Math.min(groupEnd, options.endRow);
    const first = groupStart;
    groupStart = groupEnd;
    if (from >= to) continue;
    onRowGroup({ index: groupIndex, firstRow: first, from, compressedBytes: Number(group.total_compressed_size ?? group.total_byte_size) });
    let values: unknown[][] = [];
    try {
      await parquetRead({
        file,
        metadata: physical,
        rowStart: from,
        rowEnd: to,
        utf8: false,
        compressors,
        // INT96 timestamps always go through this parser: keep their exact nanoseconds.
        parsers: { timestampFromNanoseconds: (nanos) => nanos },
        onComplete: (rows) => {
          values = rows;
        },
      });
    } catch (error) {
      if (isFileSystemError(error)) throw error;
      throw new SourceFormatError(path, from, `the row group cannot be read: ${(error as Error).message}`, rowPlace(groupIndex, first, from));
    }
    for (let start = 0; start < values.length; start += ROWS_PER_YIELD) {
      const batch: SourceRow[] = [];
      for (let i = start; i < Math.min(values.length, start + ROWS_PER_YIELD); i++) {
        batch.push({ values: toSourceValues(values[i], columns, path, groupIndex, first, from + i), columns: names, endOffset: from + i + 1 });
      }
      yield batch;
    }
  }
}

interface ParquetColumn {
  name: string;
  convert: (value: unknown) => SourceValue;
}

export async function openParquet(path: string): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  const file = await asyncBufferFromFile(path);
  try {
    return { file, metadata: await parquetMetadataAsync(file) };
  } catch (error) {
    if (isFileSystemError(error)) throw error;
    throw new SourceFormatError(path, 0, `this is not a readable Parquet file: ${(error as Error).message}`, 'file footer');
  }
}

/** The file could not be read at all (permissions, gone): not a format problem. */
export function isFileSystemError(error: unknown): boolean {
  return typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** The file's columns, which must all be flat (a table has no nested columns). */
function flatColumns(metadata: FileMetaData, path: string): ParquetColumn[] {
  const columns: ParquetColumn[] = [];
  for (let i = 1; i < metadata.schema.length; i++) {
    const element = metadata.schema[i];
    if (element.num_children || element.repetition_type === 'REPEATED') {
      throw new SourceFormatError(path, 0, `column \`${element.name}\` is a nested or repeated column, which a table cannot hold; write the file with flat columns`, 'schema');
    }
    columns.push({ name: element.name, convert: converterOf(element) });
  }
  return columns;
}

/** The element as hyparquet should read it: physical values only (FLOAT16 it decodes to a number, exactly). */
function withoutAnnotations(element: SchemaElement): SchemaElement {
  if (element.logical_type?.type === 'FLOAT16') return element;
  return { ...element, converted_type: undefined, logical_type: undefined };
}

/**
 * A row's place as a Parquet reader names it: its row group and its index there, and its index in
 * the file (the chunk offsets and error records count rows of the file).
 */
export function rowPlace(groupIndex: number, groupStart: number, rowIndex: number): string {
  return `row group ${groupIndex}, row ${rowIndex - groupStart} of the group (row ${rowIndex} of the file)`;
}

function toSourceValues(row: unknown[], columns: readonly ParquetColumn[], path: string, groupIndex: number, groupStart: number, rowIndex: number): SourceValue[] {
  // hyparquet made this array for us: convert in place.
  const values = row as SourceValue[];
  for (let j = 0; j < columns.length; j++) {
    const value = row[j];
    if (value === null || value === undefined) {
      values[j] = null;
      continue;
    }
    try {
      values[j] = columns[j].convert(value);
    } catch (error) {
      throw new SourceFormatError(path, rowIndex, `column \`${columns[j].name}\`: ${(error as Error).message}`, rowPlace(groupIndex, groupStart, rowIndex));
    }
  }
  return values;
}

/** How a column's physical values become SourceValues, by its annotation, else its physical type. */
function converterOf(element: SchemaElement): (value: unknown) => SourceValue {
  const logical = element.logical_type;
  const converted = element.converted_type;
  if (converted === 'DECIMAL' || logical?.type === 'DECIMAL') {
    const scale = element.scale ?? (logical?.type === 'DECIMAL' ? logical.scale : 0);
    return (value) => decimalText(unscaledOf(value), scale);
  }
  if (converted === 'DATE' || logical?.type === 'DATE') {
    // Dates repeat a lot across rows: their texts are kept (a few thousand at most) rather than made again.
    const known = new Map<number, Buffer>();
    return (value) => {
      let text = known.get(value as number);
      if (!text) {
        if (known.size >= 4096) known.clear();
        text = Buffer.from(dateText(value as number), 'latin1');
        known.set(value as number, text);
      }
      return text;
    };
  }
  const timestampUnit = converted === 'TIMESTAMP_MILLIS' ? 'MILLIS' : converted === 'TIMESTAMP_MICROS' ? 'MICROS' : logical?.type === 'TIMESTAMP' ? logical.unit : element.type === 'INT96' ? 'NANOS' : undefined;
  if (timestampUnit) return (value) => Buffer.from(timestampText(BigInt(value as bigint | number), timestampUnit), 'latin1');
  const timeUnit = converted === 'TIME_MILLIS' ? 'MILLIS' : converted === 'TIME_MICROS' ? 'MICROS' : logical?.type === 'TIME' ? logical.unit : undefined;
  if (timeUnit) return (value) => Buffer.from(timeText(BigInt(value as bigint | number), timeUnit), 'latin1');
  if (logical?.type === 'UUID') return (value) => Buffer.from(uuidText(value as Uint8Array), 'latin1');
  if (converted === 'INTERVAL' || logical?.type === 'INTERVAL') {
    return () => {
      throw new Error('INTERVAL values have no MySQL type; convert the column before exporting');
    };
  }
  if (converted === 'UINT_32' || (logical?.type === 'INTEGER' && logical.bitWidth === 32 && !logical.isSigned)) return (value) => String((value as number) >>> 0);
  if (converted === 'UINT_64' || (logical?.type === 'INTEGER' && logical.bitWidth === 64 && !logical.isSigned)) return (value) => BigInt.asUintN(64, value as bigint).toString();
  if (logical?.type === 'FLOAT16') return (value) => floatText(value as number, true);
  switch (element.type) {
    case 'BOOLEAN':
      return (value) => (value ? '1' : '0');
    case 'INT32':
    case 'INT64':
      return (value) => String(value);
    case 'FLOAT':
      return (value) => floatText(value as number, true);
    case 'DOUBLE':
      return (value) => floatText(value as number, false);
    default:
      // BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY: strings (UTF-8 by the format), enums, JSON, binary.
      return (value) => bytesOf(value as Uint8Array);
  }
}

function bytesOf(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** A decimal's unscaled value: INT32, INT64, or big-endian two's complement bytes. */
function unscaledOf(value: unknown): bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return BigInt(value);
  const bytes = value as Uint8Array;
  if (bytes.length === 0) return 0n;
  const unsigned = BigInt('0x' + bytesOf(bytes).toString('hex'));
  return bytes[0] & 0x80 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += '0'.repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

/**
 * The shortest text that reads back as the same float (32-bit for FLOAT), so a FLOAT 0.1 is sent
 * as `0.1`, not as the double nearest to it. MySQL has no NaN or infinity.
 */
function floatText(value: number, singlePrecision: boolean): string {
  if (!Number.isFinite(value)) throw new Error(`${value} cannot be stored in MySQL; replace it (with NULL, say) before exporting`);
  if (!singlePrecision) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(value.toPrecision(digits)));
    if (Math.fround(Number(text)) === value) return text;
  }
  return String(Number(value.toPrecision(9)));
}

function dateText(days: number): string {
  const [year, month, day] = civilDate(days);
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}`;
}

const unitsPerSecond = { MILLIS: 1_000n, MICROS: 1_000_000n, NANOS: 1_000_000_000n };
const fractionDigits = { MILLIS: 3, MICROS: 6, NANOS: 9 };

/** `YYYY-MM-DD hh:mm:ss[.fraction]` in UTC, the fraction with the unit's digits when not zero. */
function timestampText(value: bigint, unit: keyof typeof unitsPerSecond): string {
  const perSecond = unitsPerSecond[unit];
  let seconds = value / perSecond;
  let fraction = value % perSecond;
  if (fraction < 0n) {
    fraction += perSecond;
    seconds -= 1n;
  }
  const secondsOfDay = Number(((seconds % 86400n) + 86400n) % 86400n);
  const days = Number((seconds - BigInt(secondsOfDay)) / 86400n);
  return `${dateText(days)} ${clockText(secondsOfDay)}${fractionText(fraction, unit)}`;
}

/** `hh:mm:ss[.fraction]` from the time since midnight. */
function timeText(value: bigint, unit: keyof typeof unitsPerSecond): string {
  const perSecond = unitsPerSecond[unit];
  return `${clockText(Number(value / perSecond))}${fractionText(value % perSecond, unit)}`;
}

function clockText(seconds: number): string {
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}

function fractionText(fraction: bigint, unit: keyof typeof unitsPerSecond): string {
  return fraction === 0n ? '' : `.${fraction.toString().padStart(fractionDigits[unit], '0')}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Year, month and day of a day number (days since 1970-01-01) in the proleptic Gregorian calendar,
 * by arithmetic: formatting through Date objects was a third of the reader's time.
 */
function civilDate(days: number): [number, number, number] {
  const z = days + 719468; // days since 0000-03-01
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // March is 0
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function uuidText(bytes: Uint8Array): string {
  const hex = bytesOf(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
