/**
 * Streaming reader of CSV data files, with TiDB Lightning's `[mydumper.csv]` options.
 *
 * How it streams: the parser keeps one Buffer (`buf`) of the bytes not consumed yet and advances
 * in atomic steps — one empty line, or one whole record. A step that reaches the end of the bytes
 * received so far (and not the end of the file) throws the private {@link NEED_MORE} marker; the
 * parser rewinds to the start of the step and the driver retries once more bytes have arrived. So
 * memory holds at most about twice the largest record, never the file.
 *
 * Decisions, following TiDB Lightning unless noted:
 * - NULL: an unquoted field whose raw text (before unescaping) equals one of `null` is NULL. A
 *   quoted field is NULL when it is exactly `"\N"` (escape character + `N`) and that text is in
 *   `null` (MySQL writes `\N` for NULL even inside enclosed fields), or when its text, escapes and
 *   doubled quotes resolved, equals one of `null`: `"NULL"` with `null = ['NULL']`, `""` with
 *   `null = ['']`. Lightning does the same (its quoted-null-is-text is off for imports). `\\N`
 *   (an escaped backslash, then N) is the two-byte string `\N`, never NULL. With `notNull`
 *   nothing is NULL.
 * - Escapes: the escape character is `escapedBy` when set (unless it is `\` while
 *   `backslashEscape` is off, as in Lightning), else `\` when `backslashEscape`, else none. It
 *   works inside and outside quotes: `\0 \b \n \r \t \Z` are control bytes, any other escaped
 *   byte stands for itself (`\\`, `\"`, `\,`, an escaped line break).
 * - Empty lines are skipped everywhere (Lightning does too), so a one-column file cannot hold an
 *   unquoted empty string; a line holding anything, even only spaces, is a record.
 * - With an empty terminator, `\r\n` is one line break (so a row's end offset is after the `\n`).
 * - `trimLastSeparator`: when a line ends with a separator, the empty field after it is dropped.
 * - A quote character inside an unquoted field is an error, as in Lightning (`a"b`).
 * - A UTF-8 byte order mark at offset 0 of the file is skipped.
 * - Header fields are unescaped and decoded as UTF-8; the NULL rules do not apply to them.
 */
import { driveParser } from './drive-parser';
import { SourceFormatError, type SourceRow, type SourceValue } from './row';

export interface CsvOptions {
  /** Field separator, may be several characters (default ','). */
  separator: string;
  /** Quote character(s); '' means no quoting (default '"'). */
  delimiter: string;
  /** Line terminator; '' means any of \r, \n, \r\n (default ''). */
  terminator: string;
  /** The first line of the file is a header of column names. */
  header: boolean;
  /** If true, no field is ever NULL. */
  notNull: boolean;
  /** Field texts meaning NULL (default ['\\N']): an unquoted field equal to one is NULL. */
  null: string[];
  /** Backslash escapes inside fields (default true). */
  backslashEscape: boolean;
  /** A separator at the end of each line is dropped (like a trailing comma). */
  trimLastSeparator: boolean;
  /** Escape character when not backslash (if set, overrides backslash as the escape character). */
  escapedBy?: string;
}

export interface CsvReadOptions {
  path: string;
  csv: CsvOptions;
  /** Absolute offset in the uncompressed file of the first byte of `input` (a row boundary). */
  startOffset: number;
  /** If given, only the rows starting before this offset are read. */
  endOffset?: number;
  /** Column names of the rows when the file has no header (or the header is not in this chunk). */
  columns?: readonly string[];
}

/** Yields the rows of a chunk of a CSV file, in groups (the rows completed by each input buffer). */
export async function* readCsvRows(input: AsyncIterable<Buffer>, options: CsvReadOptions): AsyncGenerator<SourceRow[]> {
  const withHeader = options.csv.header && options.startOffset === 0;
  const parser = new CsvParser(options.path, options.csv, options.startOffset, options.endOffset ?? Infinity, withHeader, false);
  parser.columns = options.columns;
  yield* driveParser(parser, input);
}

/** Reads the header line of a CSV file (`input` from byte 0): its column names and the offset just past it. */
export async function readCsvHeader(
  input: AsyncIterable<Buffer>,
  options: { path: string; csv: CsvOptions },
): Promise<{ columns: string[]; endOffset: number }> {
  const parser = new CsvParser(options.path, options.csv, 0, Infinity, true, true);
  for await (const rows of driveParser(parser, input)) void rows; // header-only mode yields no rows
  return { columns: (parser.columns as string[] | undefined) ?? [], endOffset: parser.headerEnd };
}

// ---------------------------------------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
/** CsvParser.stop values (any other value is the length of a terminator). */
const STOP_EOF = -1;
const STOP_SEPARATOR = 0;

/**
 * Thrown (always this one object, never an Error: no stack trace to capture) when a step reaches
 * the end of the bytes received so far before the end of the file. Never escapes this module.
 */
const NEED_MORE: object = Object.freeze({ needMore: true });

class CsvParser {
  private readonly sep: Buffer;
  private readonly sep0: number;
  /** The quote character(s); empty when fields are never quoted. */
  private readonly quote: Buffer;
  /** First byte of the quote, or -1 when there is none. */
  private readonly quote0: number;
  /** The line terminator; null means any of \r, \n, \r\n. */
  private readonly term: Buffer | null;
  /** The escape byte, or -1 when escapes are off. */
  private readonly esc: number;
  private readonly notNull: boolean;
  private readonly nulls: Buffer[];
  private readonly maxNullLength: number;
  /** Whether a quoted escape-N (`"\N"`) is NULL. */
  private readonly quotedNull: boolean;
  private readonly trimLast: boolean;
  /** Bytes that may end or interrupt an unquoted field: first bytes of separator, terminator, quote, escape. */
  private readonly unquotedStop = new Uint8Array(256);
  /** Bytes that may end or interrupt a quoted field: first byte of the quote, the escape. */
  private readonly quotedStop = new Uint8Array(256);

  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Absolute file offset of `buf[0]`. */
  private base: number;
  private eof = false;
  private rows: SourceRow[] = [];
  /** True while the next record is the header. */
  private inHeader: boolean;
  /** Set once no more rows are wanted (past endOffset, or the header read in header-only mode). */
  done = false;
  columns: readonly string[] | undefined;
  /** Offset just past the header (or of the end of the bytes read if there was none). */
  headerEnd = 0;

  constructor(
    private readonly path: string,
    csv: CsvOptions,
    startOffset: number,
    private readonly limit: number,
    header: boolean,
    private readonly headerOnly: boolean,
  ) {
    this.base = startOffset;
    this.inHeader = header;
    if (csv.separator.length === 0) throw new TypeError('CSV separator must not be empty');
    this.sep = Buffer.from(csv.separator, 'utf8');
    this.sep0 = this.sep[0];
    this.quote = Buffer.from(csv.delimiter, 'utf8');
    this.quote0 = this.quote.length > 0 ? this.quote[0] : -1;
    if (this.quote.length > 0 && (this.sep.subarray(0, this.quote.length).equals(this.quote.subarray(0, this.sep.length)))) {
      throw new TypeError('CSV separator and delimiter must not be prefixes of each other');
    }
    this.term = csv.terminator.length > 0 ? Buffer.from(csv.terminator, 'utf8') : null;
    const escapedBy = csv.escapedBy ?? '';
    const escape = escapedBy !== '' && !(escapedBy === '\\' && !csv.backslashEscape) ? escapedBy : csv.backslashEscape ? '\\' : '';
    const escBytes = Buffer.from(escape, 'utf8');
    if (escBytes.length > 1) throw new TypeError('CSV escape character must be a single byte');
    this.esc = escBytes.length === 1 ? escBytes[0] : -1;
    if (this.esc >= 0 && (this.esc === this.sep0 || this.esc === this.quote0)) {
      throw new TypeError('CSV escape character must differ from the separator and the delimiter');
    }
    this.notNull = csv.notNull;
    this.nulls = csv.null.map((text) => Buffer.from(text, 'utf8'));
    this.maxNullLength = this.nulls.reduce((max, b) => Math.max(max, b.length), -1);
    this.quotedNull = this.esc >= 0 && csv.null.includes(escape + 'N');
    this.trimLast = csv.trimLastSeparator;

    this.unquotedStop[this.sep0] = 1;
    if (this.term) this.unquotedStop[this.term[0]] = 1;
    else this.unquotedStop[CR] = this.unquotedStop[LF] = 1;
    if (this.quote0 >= 0) this.unquotedStop[this.quote0] = this.quotedStop[this.quote0] = 1;
    if (this.esc >= 0) this.unquotedStop[this.esc] = this.quotedStop[this.esc] = 1;
  }

  /** Bytes received but not consumed: the unfinished step. */
  pendingBytes(): number {
    return this.buf.length - this.pos;
  }

  /** The format error that stopped the parser, once the rows before it have been returned. */
  error: SourceFormatError | undefined;

  /** Appends `chunks` (and, with `eof`, the end of the file), parses all it can, returns the rows completed. */
  feed(chunks: Buffer[], eof: boolean): SourceRow[] {
    const rest = this.buf.length - this.pos;
    this.base += this.pos;
    if (rest === 0 && chunks.length === 1) {
      this.buf = chunks[0]; // the common case: no copy
    } else if (rest > 0 || chunks.length > 0) {
      this.buf = Buffer.concat(rest > 0 ? [this.buf.subarray(this.pos), ...chunks] : chunks);
    } else {
      this.buf = EMPTY;
    }
    this.pos = 0;
    this.eof = eof;
    if (this.error === undefined) this.run();
    if (this.eof && this.inHeader) this.headerEnd = this.base + this.pos; // no header in the file
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  private run(): void {
    for (;;) {
      const mark = this.pos;
      try {
        if (!this.step()) return;
      } catch (e) {
        if (e instanceof SourceFormatError) {
          // Delivered after the rows completed before it (see the driver).
          this.error = e;
          return;
        }
        if (e !== NEED_MORE) throw e;
        // Every read past the received bytes checks `eof` first, so this cannot happen at the end
        // of the file; if it ever did, stopping quietly would lose rows.
        if (this.eof) this.fail(this.pos, 'internal error: reader stopped before the end of the file');
        this.pos = mark;
        return;
      }
    }
  }

  /** One atomic step: the byte order mark, an empty line or a record; false when there is nothing more to do. */
  private step(): boolean {
    if (this.done) return false;
    const offset = this.base + this.pos;
    if (offset >= this.limit) {
      this.done = true; // the next record starts at or after endOffset: it belongs to the next chunk
      return false;
    }
    if (this.pos >= this.buf.length) {
      if (this.eof) return false;
      throw NEED_MORE;
    }
    if (offset === 0 && this.at(0) === 0xef && this.at(1) === 0xbb && this.at(2) === 0xbf) {
      this.pos = 3;
      return true;
    }
    const t = this.terminatorAt(this.pos);
    if (t > 0) {
      this.pos += t; // empty line
      return true;
    }
    this.record();
    return true;
  }

  // -------------------------------------------------------------------------------------------

  /** The byte at `i`, or -1 at the end of the file; throws NEED_MORE past the bytes received so far. */
  private at(i: number): number {
    if (i < this.buf.length) return this.buf[i];
    if (this.eof) return -1;
    throw NEED_MORE;
  }

  private fail(i: number, reason: string): never {
    throw new SourceFormatError(this.path, this.base + i, reason);
  }

  /** Whether `p` is at `i` (a partial match at the end of the file is no match). */
  private matchAt(p: Buffer, i: number): boolean {
    const buf = this.buf;
    const n = buf.length;
    for (let k = 0; k < p.length; k++) {
      if (i + k >= n) {
        if (this.eof) return false;
        throw NEED_MORE;
      }
      if (buf[i + k] !== p[k]) return false;
    }
    return true;
  }

  /** Length of the line terminator at `i`, 0 if there is none. */
  private terminatorAt(i: number): number {
    const c = this.buf[i];
    if (this.term === null) {
      if (c === LF) return 1;
      if (c !== CR) return 0;
      return this.at(i + 1) === LF ? 2 : 1; // \r\n is one line break
    }
    return c === this.term[0] && this.matchAt(this.term, i) ? this.term.length : 0;
  }

  private separatorAt(i: number): boolean {
    return this.buf[i] === this.sep0 && (this.sep.length === 1 || this.matchAt(this.sep, i));
  }

  // -------------------------------------------------------------------------------------------

  /** Step: one record starting at `pos` (not at a line terminator), through its terminator. */
  private record(): void {
    const values: SourceValue[] = [];
    let i = this.pos;
    let lastEmptyUnquoted = false;
    for (;;) {
      // One field at i.
      if (this.quote0 >= 0 && this.buf[i] === this.quote0 && this.matchAt(this.quote, i)) {
        i = this.quotedField(i, values);
        lastEmptyUnquoted = false;
      } else {
        const s = i;
        i = this.unquotedField(i, values);
        lastEmptyUnquoted = i === s;
        // The hot path: the field already knows what stopped it.
        const stop = this.stop;
        if (stop === STOP_SEPARATOR) {
          i += this.sep.length;
          continue;
        }
        if (stop === STOP_EOF) break;
        i += stop; // the terminator's length
        break;
      }
      // What follows a quoted field: end of file, terminator or separator.
      if (i >= this.buf.length && this.at(i) === -1) break;
      const t = this.terminatorAt(i);
      if (t > 0) {
        i += t;
        break;
      }
      if (this.separatorAt(i)) {
        i += this.sep.length;
        continue;
      }
      this.fail(i, `expected a separator or the end of the line after a closing quote, found ${describeByte(this.buf[i])}`);
    }
    if (this.trimLast && lastEmptyUnquoted && values.length > 1) values.pop();
    this.pos = i;
    if (this.inHeader) {
      this.inHeader = false;
      this.columns = values.map((v) => (v === null ? '' : v.toString('utf8')));
      this.headerEnd = this.base + i;
      if (this.headerOnly) this.done = true;
    } else {
      this.rows.push({ values, columns: this.columns, endOffset: this.base + i });
    }
  }

  /** What stopped the last unquoted field: STOP_SEPARATOR, STOP_EOF, or the length of the terminator. */
  private stop = STOP_EOF;

  /**
   * Reads the unquoted field starting at `i` into `values`; returns where it stops (at a
   * separator, a terminator or the end of the file), and sets `stop` to say which.
   */
  private unquotedField(i: number, values: SourceValue[]): number {
    const buf = this.buf;
    const n = buf.length;
    const stopAt = this.unquotedStop;
    const s = i;
    let escaped = false;
    for (;;) {
      // The hot loop: plain bytes.
      while (i < n && stopAt[buf[i]] === 0) i++;
      if (i >= n) {
        if (!this.eof) throw NEED_MORE;
        this.stop = STOP_EOF;
        break;
      }
      const c = buf[i];
      // A terminator wins over a separator, as in Lightning.
      const t = this.terminatorAt(i);
      if (t > 0) {
        this.stop = t;
        break;
      }
      if (this.separatorAt(i)) {
        this.stop = STOP_SEPARATOR;
        break;
      }
      if (c === this.quote0 && this.matchAt(this.quote, i)) this.fail(i, 'quote character inside an unquoted field');
      if (c === this.esc) {
        if (i + 1 >= n) {
          if (this.eof) this.fail(i, 'escape character at the end of the file');
          throw NEED_MORE;
        }
        escaped = true;
        i += 2;
        continue;
      }
      i++; // first byte of a multi-byte separator/terminator/quote that is not one here
    }
    if (!this.notNull && !this.inHeader && i - s <= this.maxNullLength && this.isNullText(s, i)) {
      values.push(null);
    } else {
      values.push(escaped ? this.unescape(s, i, false) : copyBytes(buf, s, i));
    }
    return i;
  }

  /** Reads the quoted field starting at `i` (at its opening quote) into `values`; returns the index after the closing quote. */
  private quotedField(i: number, values: SourceValue[]): number {
    const buf = this.buf;
    const n = buf.length;
    const stop = this.quotedStop;
    const quote = this.quote;
    const q = quote.length;
    const s = i + q;
    let special = false;
    let j = s;
    let e: number;
    for (;;) {
      // The hot loop: plain bytes (separators and line breaks included).
      while (j < n && stop[buf[j]] === 0) j++;
      if (j >= n) {
        if (this.eof) this.fail(i, 'unterminated quoted field starting here');
        throw NEED_MORE;
      }
      const c = buf[j];
      if (c === this.quote0 && this.matchAt(quote, j)) {
        if (this.matchAt(quote, j + q)) {
          special = true; // doubled quote: one literal quote
          j += 2 * q;
          continue;
        }
        e = j;
        j += q;
        break;
      }
      if (c === this.esc) {
        if (j + 1 >= n) {
          if (this.eof) this.fail(i, 'unterminated quoted field starting here');
          throw NEED_MORE;
        }
        special = true;
        j += 2;
        continue;
      }
      j++;
    }
    const nullable = !this.notNull && !this.inHeader;
    if (nullable && this.quotedNull && e - s === 2 && buf[s] === this.esc && buf[s + 1] === 0x4e) {
      values.push(null); // "\N", as Lightning
      return j;
    }
    const value = special ? this.unescape(s, e, true) : copyBytes(buf, s, e);
    values.push(nullable && value.length <= this.maxNullLength && this.isQuotedNull(value) ? null : value);
    return j;
  }

  /**
   * Whether a quoted field's text (escapes resolved) is one of the NULL texts, as Lightning reads
   * it: `"NULL"` is NULL when `null` lists `NULL`. Only `\N` made by an escaped escape (`"\\N"`) is
   * the text it spells.
   */
  private isQuotedNull(value: Buffer): boolean {
    if (this.quotedNull && value.length === 2 && value[0] === this.esc && value[1] === 0x4e) return false;
    return this.nulls.some((text) => text.equals(value));
  }

  private isNullText(s: number, e: number): boolean {
    const buf = this.buf;
    const len = e - s;
    const nulls = this.nulls;
    outer: for (let j = 0; j < nulls.length; j++) {
      const text = nulls[j];
      if (text.length !== len) continue;
      for (let k = 0; k < len; k++) if (buf[s + k] !== text[k]) continue outer;
      return true;
    }
    return false;
  }

  /**
   * The field text buf[s, e) with escapes (and, if `quoted`, doubled quotes) resolved. The scan
   * that found the field guarantees every escape is followed by a byte and every quote is doubled.
   */
  private unescape(s: number, e: number, quoted: boolean): Buffer {
    const buf = this.buf;
    const out = Buffer.allocUnsafe(e - s); // never longer than the escaped text
    const esc = this.esc;
    const quote = this.quote;
    let w = 0;
    for (let i = s; i < e; i++) {
      const c = buf[i];
      if (c === esc) {
        const d = buf[++i];
        out[w++] = ESCAPED[d];
      } else if (quoted && c === this.quote0 && startsWith(buf, i, quote)) {
        for (let k = 0; k < quote.length; k++) out[w++] = quote[k];
        i += 2 * quote.length - 1;
      } else {
        out[w++] = c;
      }
    }
    return w === out.length ? out : out.subarray(0, w);
  }
}

/** What an escaped byte stands for: `\0 \b \n \r \t \Z` are control bytes, any other byte is itself. */
const ESCAPED = new Uint8Array(256);
for (let c = 0; c < 256; c++) ESCAPED[c] = c;
ESCAPED[0x30] = 0x00;
ESCAPED[0x62] = 0x08;
ESCAPED[0x6e] = LF;
ESCAPED[0x72] = CR;
ESCAPED[0x74] = 0x09;
ESCAPED[0x5a] = 0x1a;

function startsWith(buf: Buffer, i: number, p: Buffer): boolean {
  if (i + p.length > buf.length) return false;
  for (let k = 0; k < p.length; k++) if (buf[i + k] !== p[k]) return false;
  return true;
}

/** `'x'` for a printable ASCII byte, else `byte 0xNN`. */
function describeByte(c: number): string {
  if (c > 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  if (c === 0x20) return "' '";
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * A copy of buf[s, e) that does not keep the (large) input buffer alive. Short copies by hand:
 * for a few bytes, a JS loop beats the native copy's call overhead several times over.
 */
function copyBytes(buf: Buffer, s: number, e: number): Buffer {
  const len = e - s;
  const out = Buffer.allocUnsafe(len);
  if (len <= 48) {
    for (let k = 0; k < len; k++) out[k] = buf[s + k];
  } else {
    buf.copy(out, 0, s, e);
  }
  return out;
}
