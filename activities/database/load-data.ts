import { Readable } from 'node:stream';
import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import type { StringBody } from '../source/row-sink';
import { ByteBuilder } from './byte-builder';
import { numericFamilyOf } from './numeric-types';
import { NOT_A_NUMBER } from './number-form';
import { serverKindOf } from './server-kind';
import { qualifiedName, quoteName } from './sql-text';
import type { TargetColumn } from './table-columns';

/**
 * The fast way in: a batch sent as `LOAD DATA LOCAL INFILE` of tab-separated rows built in memory.
 * MariaDB takes such a batch for about 60% of the CPU the same rows cost it as a multi-row INSERT
 * (bench/import-speed.ts), and on a machine shared with the server that is the import's speed.
 *
 * LOAD DATA converts every field as a string, where an INSERT converts literals by their kind, and
 * LOCAL turns what an INSERT would refuse (a duplicate key, a value the column cannot hold) into a
 * skipped row or a warning. So a batch goes this way only when:
 * - each value reaches its column exactly as the INSERT's literal would (see `LoadDataRows.literalField`);
 * - the server then reports every row stored, with no warning, no skip and no replacement
 *   (`loadedCleanly`). Otherwise the transaction is rolled back and the batch goes as an INSERT,
 *   which keeps the exact errors, on-duplicate handling and error records.
 */

/** What a column accepts from LOAD DATA exactly as from an INSERT's literals. */
export type LoadColumnKind = 'number' | 'text' | 'strings-only';

/** The columns' kinds, or `undefined` when a column takes no LOAD DATA at all (BIT: its text form is not its value). */
export function loadColumnKinds(columns: readonly TargetColumn[]): LoadColumnKind[] | undefined {
  const kinds: LoadColumnKind[] = [];
  for (const { dataType } of columns) {
    if (numericFamilyOf(dataType)) {
      kinds.push('number');
      continue;
    }
    switch (dataType) {
      case 'bit':
        return undefined;
      case 'char':
      case 'varchar':
      case 'tinytext':
      case 'text':
      case 'mediumtext':
      case 'longtext':
      case 'binary':
      case 'varbinary':
      case 'tinyblob':
      case 'blob':
      case 'mediumblob':
      case 'longblob':
        kinds.push('text');
        break;
      default:
        // Dates, times, YEAR, ENUM, SET, JSON, …: a number means something else to them than its text.
        kinds.push('strings-only');
    }
  }
  return kinds;
}

/** `LOAD DATA` of one table's batch, its fields in `columns` order. */
export function loadDataSql(schema: string, table: string, columns: readonly string[]): string {
  // The file name is never opened: the rows come from memory (see loadRows).
  return (
    `LOAD DATA LOCAL INFILE 'tempest-batch' INTO TABLE ${qualifiedName(schema, table)} CHARACTER SET binary ` +
    `FIELDS TERMINATED BY '\\t' ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' STARTING BY '' ` +
    `(${columns.map(quoteName).join(',')})`
  );
}

const TAB = 0x09;
const LF = 0x0a;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;
/** The byte after the backslash for bytes an enclosed field does not take as they are; 0 for the others. */
const ESCAPE = new Uint8Array(256);
ESCAPE[0x00] = 0x30; // \0
ESCAPE[TAB] = 0x74; // \t
ESCAPE[LF] = 0x6e; // \n
ESCAPE[QUOTE] = QUOTE;
ESCAPE[BACKSLASH] = BACKSLASH;

/**
 * Whether a dump's string, quoted with `quote`, is as written also its enclosed field: quoted as
 * fields are enclosed, its escapes (and doubled quotes) all read as in SQL (StringBody `plain` or
 * `field-escaped`).
 */
export function isFieldAsWritten(body: StringBody, quote: number): boolean {
  return quote === QUOTE && body !== 'escaped';
}

/**
 * A batch's rows as LOAD DATA reads them: fields split by tabs, rows ended by newlines. A string is
 * enclosed in single quotes, with backslash escapes; everything else is bare: NULL as `\N`, a
 * number as its digits. Strings must be enclosed: a bare field reading `NULL` would be NULL.
 * An enclosed field reads escapes and doubled quotes as SQL reads a '…' literal, but for `\N`
 * (NULL, when it is all the field holds), `\%` and `\_` (which keep their backslash in SQL): so a
 * dump's string goes in as it is written, quotes included, when it has none of those three.
 * Every field is then also the INSERT's literal for the same value, which is how a batch the
 * target will not take this way still goes as an INSERT (`insertRows`).
 */
export class LoadDataRows {
  private readonly out: ByteBuilder;
  private fields = 0;
  private rowStart = 0;
  private rowFieldsStart = 0;
  rows = 0;

  constructor(expectedBytes: number) {
    this.out = new ByteBuilder(expectedBytes);
  }

  get length(): number {
    return this.out.length;
  }

  startRow(): void {
    this.rowStart = this.out.length;
    this.rowFieldsStart = this.fields;
  }

  nullField(): void {
    this.field();
    this.out.byte(BACKSLASH);
    this.out.byte(0x4e); // N
  }

  /** A string's bytes, src[start, end), escaped as an enclosed field needs. */
  stringField(src: Buffer, start: number, end: number): void {
    this.field();
    this.out.reserve((end - start) * 2 + 2);
    const buffer = this.out.buffer;
    let w = this.out.length;
    buffer[w++] = QUOTE;
    for (let i = start; i < end; i++) {
      const c = src[i];
      const escape = ESCAPE[c];
      if (escape === 0) {
        buffer[w++] = c;
      } else {
        buffer[w++] = BACKSLASH;
        buffer[w++] = escape;
      }
    }
    buffer[w++] = QUOTE;
    this.out.length = w;
  }

  /** A dump's string as it is written, quotes included, src[start, end), when `isFieldAsWritten` says it may go so. */
  quotedField(src: Buffer, start: number, end: number): void {
    this.field();
    this.out.range(src, start, end);
  }

  /**
   * An unquoted literal's text, src[start, end) (a number, `0x…`, `b'…'`, TRUE/FALSE), of the shape
   * `numberForm` gives: written when the column stores its text as it would the literal's value;
   * false, writing nothing, when not: the batch must then go as an INSERT.
   */
  literalField(src: Buffer, start: number, end: number, form: number, kind: LoadColumnKind): boolean {
    if (kind === 'strings-only') return false;
    const first = src[start] | 0x20;
    if (first === 0x74 || first === 0x66) {
      // TRUE / FALSE are the integers 1 and 0.
      this.field();
      this.out.byte(first === 0x74 ? 0x31 : 0x30);
      return true;
    }
    if (end - start > 1 && src[start + 1] === 0x78 && kind === 'text') {
      // 0x… in a string column is the bytes it spells (an odd digit count is padded on the left).
      const digits = src.toString('latin1', start + 2, end);
      const bytes = Buffer.from(digits.length % 2 === 1 ? '0' + digits : digits, 'hex');
      this.stringField(bytes, 0, bytes.length);
      return true;
    }
    // A string column stores a number's text unchanged only in canonical form (an INSERT stores a
    // literal `007` as `7` and `1e3` as `1000`); a numeric column reads any number's text as the literal.
    if (kind === 'number' ? form === NOT_A_NUMBER : form < 0) return false;
    this.field();
    this.out.range(src, start, end);
    return true;
  }

  endRow(): void {
    this.out.byte(LF);
    this.rows++;
  }

  /** Forgets the row started: the batch is as it was before it. */
  abandonRow(): void {
    this.out.length = this.rowStart;
    this.fields = this.rowFieldsStart;
  }

  bytes(): Buffer {
    return this.out.view();
  }

  /** Empties the batch, keeping its buffer for the next one. */
  clear(): void {
    this.out.length = 0;
    this.fields = 0;
    this.rowStart = 0;
    this.rowFieldsStart = 0;
    this.rows = 0;
  }

  /**
   * The batch as INSERT values: each complete row's `(…)` text, and the fields of a row started but
   * not ended. Each field is already the INSERT's literal (see the class), `\N` aside.
   */
  insertRows(): { rows: string[]; startedRow: string[] } {
    const bytes = this.out.view();
    const rows: string[] = [];
    let fields: string[] = [];
    let start = 0;
    for (let field = 0; field < this.fields; field++) {
      const end = bytes[start] === QUOTE ? enclosedEnd(bytes, start) : bareEnd(bytes, start);
      const isNull = end - start === 2 && bytes[start] === BACKSLASH;
      fields.push(isNull ? 'NULL' : bytes.toString('latin1', start, end));
      if (bytes[end] === LF) {
        rows.push(`(${fields.join(',')})`);
        fields = [];
      }
      start = end + 1;
    }
    return { rows, startedRow: fields };
  }

  /** Starts a field. */
  private field(): void {
    if (this.fields > this.rowFieldsStart) this.out.byte(TAB);
    this.fields++;
  }
}

/** Just past the closing quote of the enclosed field at `start` (a quote is doubled or escaped inside). */
function enclosedEnd(bytes: Buffer, start: number): number {
  let i = start + 1;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c === BACKSLASH) i += 2;
    else if (c !== QUOTE) i++;
    else if (bytes[i + 1] === QUOTE) i += 2;
    else return i + 1;
  }
  return bytes.length;
}

/** The end of the bare field at `start`: its tab or newline, or the end of the batch (a row's last field, not yet ended). */
function bareEnd(bytes: Buffer, start: number): number {
  let i = start;
  while (i < bytes.length && bytes[i] !== TAB && bytes[i] !== LF) i += bytes[i] === BACKSLASH ? 2 : 1;
  return i;
}

/** Packets of at most this much: the protocol's limit is 16 MiB - 1 per packet. */
const PACKET_BYTES = 1024 * 1024;

/**
 * Runs the LOAD DATA with `rows` as its file; true when the server stored every row as it is, with
 * no warning, skip or replacement (anything else would differ from the INSERT: the caller rolls back).
 */
export async function loadRows(connection: PoolConnection, sql: string, rows: LoadDataRows): Promise<boolean> {
  const bytes = rows.bytes();
  const [result] = await connection.query<ResultSetHeader>({
    sql,
    // Whatever file name the server asks for, it gets these bytes: nothing on disk is ever read.
    infileStreamFactory: () => Readable.from(packetsOf(bytes), { objectMode: false }),
  });
  return loadedCleanly(result, rows.rows);
}

function* packetsOf(bytes: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += PACKET_BYTES) yield bytes.subarray(offset, offset + PACKET_BYTES);
}

/** `Records: n  Deleted: 0  Skipped: 0  Warnings: 0` with n the rows sent, and as many rows affected. */
export function loadedCleanly(result: ResultSetHeader, rows: number): boolean {
  const counts = /Records:\s*(\d+)\s+Deleted:\s*(\d+)\s+Skipped:\s*(\d+)\s+Warnings:\s*(\d+)/.exec(result.info ?? '');
  if (!counts) return false;
  const [records, deleted, skipped, warnings] = counts.slice(1).map(Number);
  return records === rows && deleted === 0 && skipped === 0 && warnings === 0 && result.affectedRows === rows;
}

/**
 * The server will not take LOCAL files (MySQL's default `local_infile = OFF`, a proxy, a client
 * setting): the chunk goes on with INSERTs.
 */
export function isLocalInfileRefused(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno;
  // ER_NOT_ALLOWED_COMMAND, ER_CLIENT_LOCAL_FILES_DISABLED (MySQL), ER_LOAD_INFILE_CAPABILITY_DISABLED
  // (MariaDB), CR_LOAD_DATA_LOCAL_INFILE_REJECTED.
  return errno === 1148 || errno === 3948 || errno === 4166 || errno === 2068;
}

/**
 * Whether batches may go as LOAD DATA: `auto` means yes except on TiDB, whose LOAD DATA may commit
 * rows in transactions of its own, apart from the chunk's position (exactly-once needs them together).
 */
export async function usesLoadData(pool: Pool, method: 'auto' | 'load-data' | 'insert'): Promise<boolean> {
  if (method !== 'auto') return method === 'load-data';
  return (await serverKindOf(pool)) !== 'tidb';
}
