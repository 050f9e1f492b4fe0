import { Readable } from 'node:stream';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { SourceValue } from '../source/row';
import { ByteBuilder } from './byte-builder';
import { numericFamilyOf } from './numeric-types';
import { textOf } from './connection';
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
 * - each value reaches its column exactly as the INSERT's literal would (see `LoadDataRows.append`);
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

/** A batch's rows as LOAD DATA reads them: fields split by tabs, rows ended by newlines, NULL as `\N`. */
export class LoadDataRows {
  private readonly out: ByteBuilder;
  rows = 0;

  constructor(expectedBytes: number) {
    this.out = new ByteBuilder(expectedBytes);
  }

  get length(): number {
    return this.out.length;
  }

  /**
   * Adds a row; returns false, adding nothing, when a value would not reach its column as the
   * INSERT's literal does: a hex number for a numeric column, say. The batch then goes as an INSERT.
   */
  append(values: readonly SourceValue[], kinds: readonly LoadColumnKind[]): boolean {
    const out = this.out;
    const start = out.length;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) out.byte(TAB);
      const value = values[i];
      if (value === null) {
        out.byte(BACKSLASH);
        out.byte(0x4e); // N
      } else if (typeof value !== 'string') {
        this.escaped(value);
      } else if (!this.literal(value, kinds[i])) {
        out.length = start;
        return false;
      }
    }
    out.byte(LF);
    this.rows++;
    return true;
  }

  bytes(): Buffer {
    return this.out.view();
  }

  /** An unquoted literal (a number, `0x…`, `b'…'`, TRUE/FALSE): written when its text is what the column would store. */
  private literal(text: string, kind: LoadColumnKind): boolean {
    if (kind === 'strings-only') return false;
    const first = text.charCodeAt(0) | 0x20;
    if (first === 0x74 || first === 0x66) {
      // TRUE / FALSE are the integers 1 and 0.
      this.out.byte(first === 0x74 ? 0x31 : 0x30);
      return true;
    }
    if (text.length > 1 && text.charCodeAt(1) === 0x78 && kind === 'text') {
      // 0x… in a string column is the bytes it spells (an odd digit count is padded on the left).
      const digits = text.length % 2 === 1 ? '0' + text.slice(2) : text.slice(2);
      this.escaped(Buffer.from(digits, 'hex'));
      return true;
    }
    if (kind === 'number' ? !isPlainNumber(text) : !isCanonicalNumber(text)) return false;
    this.out.latin1(text);
    return true;
  }

  private escaped(bytes: Buffer): void {
    this.out.reserve(bytes.length * 2);
    const buffer = this.out.buffer;
    let w = this.out.length;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
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
function isPlainNumber(text: string): boolean {
  let i = 0;
  let c = text.charCodeAt(0);
  if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
  let digits = 0;
  while (c >= 0x30 && c <= 0x39) {
    digits++;
    c = text.charCodeAt(++i);
  }
  if (c === 0x2e) {
    c = text.charCodeAt(++i);
    while (c >= 0x30 && c <= 0x39) {
      digits++;
      c = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return false;
  if ((c | 0x20) === 0x65) {
    c = text.charCodeAt(++i);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
    if (!(c >= 0x30 && c <= 0x39)) return false;
    while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
  }
  return i === text.length;
}

/**
 * `-?(0|[1-9]digits)[.digits]`, not a negative zero: a number whose text a string column stores
 * unchanged (an INSERT stores a literal `007` as `7` and `1e3` as `1000`).
 */
function isCanonicalNumber(text: string): boolean {
  let i = text.charCodeAt(0) === 0x2d ? 1 : 0;
  const integerStart = i;
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  const integerDigits = i - integerStart;
  if (integerDigits === 0 || (integerDigits > 1 && text.charCodeAt(integerStart) === 0x30)) return false;
  let nonZero = integerDigits > 1 || text.charCodeAt(integerStart) !== 0x30;
  if (i < text.length) {
    if (text.charCodeAt(i) !== 0x2e || i === text.length - 1) return false;
    for (let j = i + 1; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c < 0x30 || c > 0x39) return false;
      if (c !== 0x30) nonZero = true;
    }
  }
  return integerStart === 0 || nonZero;
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
