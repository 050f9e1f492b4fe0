import { sqlStringBytes } from './sql-string';
import type { SourceRow, SourceValue } from './row';

/**
 * Where a reader puts each row's values as it finds them. A writer that takes them this way
 * (activities/database/row-encoder.ts) copies a string straight from the file's bytes into the batch
 * it builds, with no object for each value: for a big import, that is most of its CPU.
 */
export interface RowSink {
  /** A row starts; `columns` names its values' columns when the file says (an INSERT's column list). */
  startRow(columns: readonly string[] | undefined): void;
  nullValue(): void;
  /** A quoted string with body buf[start, end), which holds what `body` says. */
  quotedValue(buf: Buffer, start: number, end: number, body: StringBody, quote: number): void;
  /** An unquoted literal to send as it is written, buf[start, end): a number, `0x…`, TRUE or FALSE. */
  literalValue(buf: Buffer, start: number, end: number): void;
  /** A value the reader had to build (see SourceValue): a string's bytes, or a literal's text. */
  builtValue(value: Buffer | string): void;
  /** The row is complete; it ends at `endOffset` in the reader's bytes. */
  endRow(endOffset: number): void;
  /** The row started is not complete in the bytes received so far, or is malformed: forget its values. */
  abandonRow(): void;
}

/**
 * What the body of a quoted string holds, as its reader saw while finding its end:
 * - `plain`: no escapes and no doubled quote: its bytes are the value;
 * - `field-escaped`: backslash escapes or doubled quotes, each read the same by a LOAD DATA field
 *   enclosed in the same quotes (any escape but `\%`, `\_` and `\N`): the string, as it is written,
 *   is also such a field for the same bytes;
 * - `escaped`: escapes, some of them `\%`, `\_` or `\N`.
 */
export type StringBody = 'plain' | 'field-escaped' | 'escaped';

/** The body holds escapes (or doubled quotes): its bytes are not yet the value. */
export function hasEscapes(body: StringBody): boolean {
  return body === 'escaped' || body === 'field-escaped';
}

/** Collects rows as SourceRow objects, each value a SourceValue. */
export class ValuesSink implements RowSink {
  private rows: SourceRow[] = [];
  private values: SourceValue[] = [];
  private columns: readonly string[] | undefined;

  /** The rows completed since the last call. */
  take(): SourceRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  startRow(columns: readonly string[] | undefined): void {
    this.columns = columns;
    this.values = [];
  }

  nullValue(): void {
    this.values.push(null);
  }

  quotedValue(buf: Buffer, start: number, end: number, body: StringBody, quote: number): void {
    this.values.push(sqlStringBytes(buf, start, end, hasEscapes(body), quote));
  }

  literalValue(buf: Buffer, start: number, end: number): void {
    this.values.push(latin1(buf, start, end));
  }

  builtValue(value: Buffer | string): void {
    this.values.push(value);
  }

  endRow(endOffset: number): void {
    this.rows.push({ values: this.values, columns: this.columns, endOffset });
  }

  abandonRow(): void {
    this.values = [];
  }
}

/** ASCII text of buf[s, e) (numbers, hex and bit literals). latin1Slice is Buffer's own fast path. */
export function latin1(buf: Buffer, s: number, e: number): string {
  return (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);
}
