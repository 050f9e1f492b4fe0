import { Readable } from 'node:stream';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ByteBuilder } from './byte-builder';
import { numericFamilyOf } from './numeric-types';
import { textOf } from './connection';
import { qualifiedName, quoteBytes, quoteName } from './sql-text';
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
    `FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' STARTING BY '' ` +
    `(${columns.map(quoteName).join(',')})`
  );
}

const TAB = 0x09;
const LF = 0x0a;
const BACKSLASH = 0x5c;
/** The byte after the backslash for bytes a field cannot hold as they are; 0 for the others. */
const ESCAPE = new Uint8Array(256);
ESCAPE[0x00] = 0x30; // \0
ESCAPE[TAB] = 0x74; // \t
ESCAPE[LF] = 0x6e; // \n
ESCAPE[BACKSLASH] = BACKSLASH;
/** The byte a LOAD DATA escape stands for (`\N` is only ever written as a whole field, NULL). */
const UNESCAPE = new Uint8Array(256);
for (let c = 0; c < 256; c++) UNESCAPE[c] = c;
UNESCAPE[0x30] = 0x00;
UNESCAPE[0x74] = TAB;
UNESCAPE[0x6e] = LF;
UNESCAPE[0x72] = 0x0d; // \r
UNESCAPE[0x62] = 0x08; // \b
UNESCAPE[0x5a] = 0x1a; // \Z

/**
 * A batch's rows as LOAD DATA reads them: fields split by tabs, rows ended by newlines, NULL as
 * `\N`. Values are written one by one, straight from the file's bytes where they can be. It keeps
 * which fields came from unquoted literals, so that the batch can still go as the INSERT it stands
 * for (`insertRows`) when the target will not take it this way.
 */
export class LoadDataRows {
  private readonly out: ByteBuilder;
  /** 1 for each field written from an unquoted literal, in order. */
  private literals = new Uint8Array(1024);
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
    this.field(0);
    this.out.byte(BACKSLASH);
    this.out.byte(0x4e); // N
  }

  /** A string's bytes, src[start, end); `plain` when they hold no tab, newline, NUL or backslash (nothing to escape). */
  stringField(src: Buffer, start: number, end: number, plain: boolean): void {
    this.field(0);
    if (plain) this.out.range(src, start, end);
    else this.escaped(src, start, end);
  }

  /** A string as backslash escapes that read the same in SQL and in a field (StringBody `field-escaped`), src[start, end). */
  escapedField(src: Buffer, start: number, end: number): void {
    this.field(0);
    this.out.range(src, start, end);
  }

  /**
   * An unquoted literal's text, src[start, end) (a number, `0x…`, `b'…'`, TRUE/FALSE): written when
   * the column stores its text as it would the literal's value; false, writing nothing, when not:
   * the batch must then go as an INSERT.
   */
  literalField(src: Buffer, start: number, end: number, kind: LoadColumnKind): boolean {
    if (kind === 'strings-only') return false;
    const first = src[start] | 0x20;
    if (first === 0x74 || first === 0x66) {
      // TRUE / FALSE are the integers 1 and 0.
      this.field(1);
      this.out.byte(first === 0x74 ? 0x31 : 0x30);
      return true;
    }
    if (end - start > 1 && src[start + 1] === 0x78 && kind === 'text') {
      // 0x… in a string column is the bytes it spells (an odd digit count is padded on the left).
      const digits = src.toString('latin1', start + 2, end);
      const bytes = Buffer.from(digits.length % 2 === 1 ? '0' + digits : digits, 'hex');
      this.stringField(bytes, 0, bytes.length, false);
      return true;
    }
    if (kind === 'number' ? !isPlainNumber(src, start, end) : !isCanonicalNumber(src, start, end)) return false;
    this.field(1);
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
   * not ended, as the INSERT writes them (NULL, a literal's text, a quoted string).
   */
  insertRows(): { rows: string[]; startedRow: string[] } {
    const bytes = this.out.view();
    const rows: string[] = [];
    let fields: string[] = [];
    let start = 0;
    for (let field = 0; field < this.fields; field++) {
      let end = start;
      while (end < bytes.length && bytes[end] !== TAB && bytes[end] !== LF) end += bytes[end] === BACKSLASH ? 2 : 1;
      fields.push(this.insertValue(bytes, start, end, field));
      if (bytes[end] === LF) {
        rows.push(`(${fields.join(',')})`);
        fields = [];
      }
      start = end + 1;
    }
    return { rows, startedRow: fields };
  }

  private insertValue(bytes: Buffer, start: number, end: number, field: number): string {
    if (end - start === 2 && bytes[start] === BACKSLASH && bytes[start + 1] === 0x4e) return 'NULL';
    if (this.literals[field] === 1) return bytes.toString('latin1', start, end);
    const raw = Buffer.allocUnsafe(end - start);
    let w = 0;
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      raw[w++] = c === BACKSLASH ? UNESCAPE[bytes[++i]] : c;
    }
    return quoteBytes(raw.subarray(0, w));
  }

  /** Starts a field; `literal`: 1 when it is an unquoted literal's text. */
  private field(literal: number): void {
    if (this.fields > this.rowFieldsStart) this.out.byte(TAB);
    if (this.fields === this.literals.length) {
      const grown = new Uint8Array(this.literals.length * 2);
      grown.set(this.literals);
      this.literals = grown;
    }
    this.literals[this.fields++] = literal;
  }

  private escaped(src: Buffer, start: number, end: number): void {
    this.out.reserve((end - start) * 2);
    const buffer = this.out.buffer;
    let w = this.out.length;
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
    this.out.length = w;
  }
}

/** `[+-]digits[.digits][e[+-]digits]` (or `.digits`): a number a numeric column reads from text as from the literal. */
function isPlainNumber(src: Buffer, start: number, end: number): boolean {
  let i = start;
  let c = src[i];
  if (c === 0x2b || c === 0x2d) c = src[++i];
  let digits = 0;
  while (i < end && c >= 0x30 && c <= 0x39) {
    digits++;
    c = src[++i];
  }
  if (i < end && c === 0x2e) {
    c = src[++i];
    while (i < end && c >= 0x30 && c <= 0x39) {
      digits++;
      c = src[++i];
    }
  }
  if (digits === 0) return false;
  if (i < end && (c | 0x20) === 0x65) {
    c = src[++i];
    if (i < end && (c === 0x2b || c === 0x2d)) c = src[++i];
    if (!(i < end && c >= 0x30 && c <= 0x39)) return false;
    while (i < end && c >= 0x30 && c <= 0x39) c = src[++i];
  }
  return i === end;
}

/**
 * `-?(0|[1-9]digits)[.digits]`, not a negative zero: a number whose text a string column stores
 * unchanged (an INSERT stores a literal `007` as `7` and `1e3` as `1000`).
 */
function isCanonicalNumber(src: Buffer, start: number, end: number): boolean {
  let i = src[start] === 0x2d ? start + 1 : start;
  const integerStart = i;
  while (i < end && src[i] >= 0x30 && src[i] <= 0x39) i++;
  const integerDigits = i - integerStart;
  if (integerDigits === 0 || (integerDigits > 1 && src[integerStart] === 0x30)) return false;
  let nonZero = integerDigits > 1 || src[integerStart] !== 0x30;
  if (i < end) {
    if (src[i] !== 0x2e || i === end - 1) return false;
    for (let j = i + 1; j < end; j++) {
      const c = src[j];
      if (c < 0x30 || c > 0x39) return false;
      if (c !== 0x30) nonZero = true;
    }
  }
  return integerStart === start || nonZero;
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
export function usesLoadData(pool: Pool, method: 'auto' | 'load-data' | 'insert'): Promise<boolean> {
  if (method !== 'auto') return Promise.resolve(method === 'load-data');
  let isTidb = tidbTargets.get(pool);
  if (!isTidb) {
    isTidb = pool.query<RowDataPacket[]>('SELECT VERSION() AS version').then(([rows]) => /tidb/i.test(textOf(rows[0].version)));
    // A failed look is not remembered: the next chunk asks again.
    isTidb.catch(() => tidbTargets.delete(pool));
    tidbTargets.set(pool, isTidb);
  }
  return isTidb.then((tidb) => !tidb);
}

/** Whether a pool's server is TiDB, asked once per pool (a worker's), not once per chunk. */
const tidbTargets = new WeakMap<Pool, Promise<boolean>>();
