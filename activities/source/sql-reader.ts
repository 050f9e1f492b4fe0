/**
 * Streaming reader of SQL data files written by Dumpling, mydumper and mysqldump.
 *
 * A data file is a sequence of statements separated by `;`. Only `INSERT [IGNORE] INTO` and
 * `REPLACE INTO … VALUES (…), (…)` carry rows; comments, versioned comments (`/*!40101 … *\/`),
 * `SET`, `LOCK TABLES`/`UNLOCK TABLES`, `START TRANSACTION`/`BEGIN`/`COMMIT` and empty statements are
 * skipped. Anything else is a {@link SourceFormatError} naming the byte offset where it starts.
 *
 * How it streams: the parser works on one Buffer (`buf`) holding the bytes not consumed yet and
 * advances in small atomic *steps* — one statement head, one skipped statement, one row `( … )`,
 * or the `,`/`;` after a row. A step that reaches the end of the bytes received so far throws the
 * private {@link NEED_MORE} marker; the parser then rewinds to where the step started, and the
 * driver retries once more bytes have arrived. So memory holds at most about twice the largest
 * single row (or statement head), never a whole multi-row statement, let alone the file.
 *
 * Grammar decisions beyond the brief:
 * - a final statement may end at the end of the file without `;` (like the mysql client);
 * - `VALUE` is accepted as a synonym of `VALUES`, and an empty row `()` is accepted (MySQL does);
 * - all rows of one statement must have the same number of values, equal to the column list's
 *   length when there is one (MySQL rejects such a statement too, so the file is broken);
 * - a UTF-8 byte order mark at offset 0 is skipped;
 * - `X'…'` must have an even number of hex digits (MySQL rejects odd ones);
 * - a charset introducer may also precede a hex literal (`_utf8mb4 0xE4B8AD`, `_binary X'00'`):
 *   the value is then the decoded bytes as a Buffer, since the introducer makes it a string;
 * - `0x`/`0b` prefixes are lowercase only, as in MySQL (`0X1` is an error).
 */
import { driveParser } from './drive-parser';
import { SourceFormatError, type SourceRow } from './row';
import { latin1, ValuesSink, type RowSink, type StringBody } from './row-sink';

export interface SqlReadOptions {
  /** Only used in error messages. */
  path: string;
}

/** Yields the rows of a whole SQL data file, in groups (the rows completed by each input buffer). */
export function readSqlRows(input: AsyncIterable<Buffer>, options: SqlReadOptions): AsyncGenerator<SourceRow[]> {
  const sink = new ValuesSink();
  return driveParser(new SqlParser(options.path, sink, () => sink.take()), input);
}

/**
 * Reads a whole SQL data file into `sink`, value by value. Yields after each input buffer that
 * completed rows (how many, as the one element), so the consumer can act on what the sink built.
 */
export function readSqlRowsInto(input: AsyncIterable<Buffer>, options: SqlReadOptions, sink: RowSink): AsyncGenerator<number[]> {
  return driveParser(new SqlParser(options.path, sink, (completed) => (completed > 0 ? [completed] : [])), input);
}

// ---------------------------------------------------------------------------------------------
// Byte constants and classes

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const HASH = 0x23;
const SQUOTE = 0x27;
const LPAREN = 0x28;
const RPAREN = 0x29;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const SEMI = 0x3b;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const BACKQUOTE = 0x60;
const STAR = 0x2a;

/** Bytes that may appear in a bare identifier or keyword: `[A-Za-z0-9_$]` and any non-ASCII byte. */
const IDENT = new Uint8Array(256);
/** Hex digits. */
const HEX = new Uint8Array(256);
/** Bytes that can start a gap between tokens: whitespace, `#`, `-` (of `-- `) and `/` (of `/*`). */
const GAP_START = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const isLetter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const isDigit = c >= 0x30 && c <= 0x39;
  IDENT[c] = isLetter || isDigit || c === UNDERSCORE || c === 0x24 || c >= 0x80 ? 1 : 0;
  HEX[c] = isDigit || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) ? 1 : 0;
  GAP_START[c] = c <= SPACE || c === HASH || c === MINUS || c === SLASH ? 1 : 0;
}
const COMMENT_END = Buffer.from('*/');
const EMPTY = Buffer.alloc(0);

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB || c === 0x0b || c === 0x0c;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Thrown (always this one object, never an Error: no stack trace to capture) when a step reaches
 * the end of the bytes received so far before the end of the file. Never escapes this module.
 */
const NEED_MORE: object = Object.freeze({ needMore: true });

const TOP = 0; // between statements
const EXPECT_ROW = 1; // after `VALUES` or after a `,` between rows: a `( … )` must follow
const AFTER_ROW = 2; // after a row: `,`, `;` or the end of the file must follow

class SqlParser<T> {
  /** The bytes not consumed yet (plus, before `pos`, some already consumed). */
  private buf: Buffer = EMPTY;
  /** The parser's own buffer for joining bytes (see append). */
  private joined: Buffer = EMPTY;
  /** Next byte to read in `buf`. */
  private pos = 0;
  /** Absolute file offset of `buf[0]`. */
  private base = 0;
  /** Where to rewind to when a step needs more bytes: the start of the step, or later. */
  private mark = 0;
  /** True once `buf` ends at the end of the file. */
  private eof = false;
  private state = TOP;
  /** The current INSERT's column list (one array shared by all its rows), if it has one. */
  private columns: string[] | undefined;
  /** Number of values every row of the current INSERT must have; -1 until its first row. */
  private width = -1;
  /** Rows completed since the last feed. */
  private completed = 0;
  /** True between the sink's startRow and endRow: a step that stops short must abandon the row. */
  private inRow = false;
  /** Set by stringEnd: what the body of the string it scanned holds. */
  private stringBody: StringBody = 'plain';
  /** Where the next backslash of `buf` is, as stringStop last found it (the end of `buf`: none). */
  private nextBackslash = -1;

  /** `collect` hands back what the sink gathered from the rows completed by one feed. */
  constructor(
    private readonly path: string,
    private readonly sink: RowSink,
    private readonly collect: (completed: number) => T[],
  ) {}

  /** Bytes received but not consumed: the unfinished step. */
  pendingBytes(): number {
    return this.buf.length - this.pos;
  }

  /** The format error that stopped the parser, once the rows before it have been returned. */
  error: SourceFormatError | undefined;

  /** Appends `chunks` (and, with `eof`, the end of the file), parses all it can, returns the rows completed. */
  feed(chunks: Buffer[], eof: boolean): T[] {
    this.append(chunks);
    this.eof = eof;
    if (this.error === undefined) this.run();
    const completed = this.completed;
    this.completed = 0;
    return this.collect(completed);
  }

  private append(chunks: Buffer[]): void {
    const rest = this.buf.length - this.pos;
    this.base += this.pos;
    if (rest === 0 && chunks.length === 1) {
      this.buf = chunks[0]; // no copy
    } else if (rest > 0 || chunks.length > 0) {
      // The unfinished step and the new bytes, joined in a buffer of the parser's own, reused from
      // feed to feed: a new one each time would be garbage as large as the file (sinks copy what they keep).
      const length = chunks.reduce((sum, chunk) => sum + chunk.length, rest);
      const target = this.joined.length >= length ? this.joined : Buffer.allocUnsafeSlow(Math.max(length, this.joined.length * 2));
      if (rest > 0) this.buf.copy(target, 0, this.pos);
      let at = rest;
      for (const chunk of chunks) at += chunk.copy(target, at);
      this.joined = target;
      this.buf = target.subarray(0, length);
    } else {
      this.buf = EMPTY;
    }
    this.pos = 0;
    this.nextBackslash = -1;
  }

  /** Runs steps until the end of the file or until a step needs more bytes. */
  private run(): void {
    for (;;) {
      this.mark = this.pos;
      try {
        if (!this.step()) return;
      } catch (e) {
        if (this.inRow) {
          this.inRow = false;
          this.sink.abandonRow();
        }
        if (e instanceof SourceFormatError) {
          // Delivered after the rows completed before it (see the driver).
          this.error = e;
          return;
        }
        if (e !== NEED_MORE) throw e;
        // Every read past the received bytes checks `eof` first, so this cannot happen at the end
        // of the file; if it ever did, stopping quietly would lose rows.
        if (this.eof) this.fail(this.pos, 'internal error: reader stopped before the end of the file');
        this.pos = this.mark;
        return;
      }
    }
  }

  /** One atomic step; false at the end of the file. */
  private step(): boolean {
    switch (this.state) {
      case TOP:
        return this.statement();
      case EXPECT_ROW:
        this.row();
        return true;
      default:
        this.afterRow();
        return true;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Low-level reading

  /** The byte at `i`, or -1 at the end of the file; throws NEED_MORE past the bytes received so far. */
  private at(i: number): number {
    if (i < this.buf.length) return this.buf[i];
    if (this.eof) return -1;
    throw NEED_MORE;
  }

  private fail(i: number, reason: string): never {
    throw new SourceFormatError(this.path, this.base + i, reason);
  }

  /**
   * Describes the byte or word at `i` for an error message. Like any read, it waits for more bytes
   * when the word may go on: the message must not depend on how the input was split.
   */
  private found(i: number): string {
    const c = this.at(i);
    if (c === -1) return 'end of file';
    if (IDENT[c] && c < 0x80) {
      const buf = this.buf;
      let e = i;
      while (e < buf.length && e - i < 40 && IDENT[buf[e]] && buf[e] < 0x80) e++;
      if (e === buf.length && e - i < 40 && !this.eof) throw NEED_MORE;
      return `'${buf.toString('latin1', i, e)}'`;
    }
    return describeByte(c);
  }

  /**
   * Skips whitespace and comments. With `commit`, the rewind mark follows each whole gap skipped,
   * so that a long run of comments is not re-read when the step stops short (only valid when the
   * calling step has not consumed anything else yet).
   */
  private skipSpace(commit: boolean): void {
    const buf = this.buf;
    const n = buf.length;
    let i = this.pos;
    for (;;) {
      if (commit) this.mark = i;
      if (i >= n) {
        this.pos = i;
        if (this.eof) return;
        throw NEED_MORE;
      }
      const c = buf[i];
      if (isSpace(c)) {
        i++;
      } else if (c === HASH) {
        i = this.lineEnd(i);
      } else if (c === MINUS && this.at(i + 1) === MINUS && this.isDashCommentEnd(this.at(i + 2))) {
        i = this.lineEnd(i);
      } else if (c === SLASH && this.at(i + 1) === STAR) {
        i = this.commentEnd(i);
      } else {
        this.pos = i;
        return;
      }
    }
  }

  /** `--` starts a comment only when followed by whitespace, a control character or the end of the file. */
  private isDashCommentEnd(c: number): boolean {
    return c <= SPACE;
  }

  /** Like skipSpace(false), but returns at once in the usual case of no gap at all. */
  private skipGap(): void {
    if (this.pos < this.buf.length && GAP_START[this.buf[this.pos]] === 0) return;
    this.skipSpace(false);
  }

  /** Index just past the end of the line comment starting at `i`. */
  private lineEnd(i: number): number {
    const e = this.buf.indexOf(LF, i);
    if (e >= 0) return e + 1;
    if (this.eof) return this.buf.length;
    throw NEED_MORE;
  }

  /** Index just past the `*\/` closing the comment starting at `i`. */
  private commentEnd(i: number): number {
    const e = this.buf.indexOf(COMMENT_END, i + 2);
    if (e >= 0) return e + 2;
    if (this.eof) this.fail(i, 'unterminated comment starting here');
    throw NEED_MORE;
  }

  /** Index just past the bare word (identifier characters) starting at `i`. */
  private wordEnd(i: number): number {
    const buf = this.buf;
    const n = buf.length;
    while (i < n && IDENT[buf[i]] === 1) i++;
    if (i >= n && !this.eof) throw NEED_MORE; // the word may go on in the next buffer
    return i;
  }

  /** Reads the ASCII keyword at `pos` in upper case ('' if none) and moves past it. */
  private keyword(): string {
    const s = this.pos;
    const c = this.at(s);
    if (c < 0 || c >= 0x80 || IDENT[c] === 0) return '';
    const e = this.wordEnd(s);
    this.pos = e;
    return this.buf.toString('latin1', s, e).toUpperCase();
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  /** Step at TOP: one statement head (INSERT/REPLACE) or one whole skipped statement. */
  private statement(): boolean {
    if (this.base + this.pos === 0) this.skipByteOrderMark();
    this.skipSpace(true);
    const start = this.pos;
    const c = this.at(start);
    if (c === -1) return false;
    if (c === SEMI) {
      this.pos++; // empty statement
      return true;
    }
    const word = this.keyword();
    switch (word) {
      case 'INSERT':
      case 'REPLACE':
        this.insertHead(word);
        return true;
      case 'SET':
      case 'BEGIN':
      case 'COMMIT':
        this.skipStatement();
        return true;
      case 'LOCK':
      case 'UNLOCK':
        this.expectKeyword(word, ['TABLES', 'TABLE']);
        this.skipStatement();
        return true;
      case 'START':
        this.expectKeyword(word, ['TRANSACTION']);
        this.skipStatement();
        return true;
      case '':
        return this.fail(start, `unexpected ${describeByte(c)} at the start of a statement`);
      default:
        return this.fail(start, `unexpected statement ${this.found(start)}`);
    }
  }

  private skipByteOrderMark(): void {
    if (this.at(0) === 0xef && this.at(1) === 0xbb && this.at(2) === 0xbf) this.pos = 3;
  }

  private expectKeyword(after: string, expected: string[]): void {
    this.skipSpace(false);
    const s = this.pos;
    if (!expected.includes(this.keyword())) this.fail(s, `expected ${expected[0]} after ${after}, found ${this.found(s)}`);
  }

  /** Skips to just past the `;` ending the statement, stepping over strings, quoted names and comments. */
  private skipStatement(): void {
    let i = this.pos;
    for (;;) {
      const c = this.at(i);
      if (c === -1) break;
      if (c === SEMI) {
        i++;
        break;
      }
      if (c === SQUOTE || c === DQUOTE) {
        i = this.stringEnd(i, c);
      } else if (c === BACKQUOTE) {
        i = this.quotedNameEnd(i, c).end;
      } else if (c === HASH) {
        i = this.lineEnd(i);
      } else if (c === MINUS && this.at(i + 1) === MINUS && this.isDashCommentEnd(this.at(i + 2))) {
        i = this.lineEnd(i);
      } else if (c === SLASH && this.at(i + 1) === STAR) {
        i = this.commentEnd(i);
      } else {
        i++;
      }
    }
    this.pos = i;
  }

  /** Step: `INSERT [IGNORE] INTO name [(col, …)] VALUES` (the word INSERT/REPLACE already read). */
  private insertHead(kind: string): void {
    this.skipSpace(false);
    let s = this.pos;
    let word = this.keyword();
    if (word === 'IGNORE' && kind === 'INSERT') {
      this.skipSpace(false);
      s = this.pos;
      word = this.keyword();
    }
    if (word !== 'INTO') this.fail(s, `expected INTO after ${kind}, found ${this.found(s)}`);
    this.skipSpace(false);
    this.qualifiedName(); // the file, not the statement, says which table this is
    this.skipSpace(false);
    let columns: string[] | undefined;
    if (this.at(this.pos) === LPAREN) {
      columns = this.columnList();
      this.skipSpace(false);
    }
    s = this.pos;
    word = this.keyword();
    if (word !== 'VALUES' && word !== 'VALUE') this.fail(s, `expected VALUES, found ${this.found(s)}`);
    this.columns = columns;
    this.width = columns ? columns.length : -1;
    this.state = EXPECT_ROW;
  }

  /** `name` or `db`.`name` (any number of parts); the names are not needed. */
  private qualifiedName(): void {
    this.name('a table name');
    for (;;) {
      const save = this.pos;
      this.skipSpace(false);
      if (this.at(this.pos) !== DOT) {
        this.pos = save;
        return;
      }
      this.pos++;
      this.skipSpace(false);
      this.name('a name after \'.\'');
    }
  }

  /** `(a, `b`, "c")` → ['a', 'b', 'c']. */
  private columnList(): string[] {
    const columns: string[] = [];
    this.pos++; // '('
    this.skipSpace(false);
    if (this.at(this.pos) === RPAREN) {
      this.pos++;
      return columns;
    }
    for (;;) {
      columns.push(this.name('a column name'));
      this.skipSpace(false);
      const c = this.at(this.pos);
      if (c === RPAREN) {
        this.pos++;
        return columns;
      }
      if (c !== COMMA) this.fail(this.pos, `expected ',' or ')' in the column list, found ${this.found(this.pos)}`);
      this.pos++;
      this.skipSpace(false);
    }
  }

  /** One identifier, bare, `backquoted` or "double-quoted", unquoted to its plain name. */
  private name(what: string): string {
    const s = this.pos;
    const c = this.at(s);
    if (c === BACKQUOTE || c === DQUOTE) {
      const { end, doubled } = this.quotedNameEnd(s, c);
      this.pos = end;
      const text = this.buf.toString('utf8', s + 1, end - 1);
      if (!doubled) return text;
      const q = String.fromCharCode(c);
      return text.split(q + q).join(q);
    }
    if (c < 0 || IDENT[c] === 0) return this.fail(s, `expected ${what}, found ${this.found(s)}`);
    const e = this.wordEnd(s);
    this.pos = e;
    return this.buf.toString('utf8', s, e);
  }

  /** End (just past the closing quote) of the quoted name starting at `i`; a doubled quote is part of it. */
  private quotedNameEnd(i: number, q: number): { end: number; doubled: boolean } {
    let j = i + 1;
    let doubled = false;
    for (;;) {
      const e = this.buf.indexOf(q, j);
      if (e < 0) {
        if (this.eof) this.fail(i, 'unterminated quoted name starting here');
        throw NEED_MORE;
      }
      if (this.at(e + 1) !== q) return { end: e + 1, doubled };
      doubled = true;
      j = e + 2;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rows and values

  /** Step at EXPECT_ROW: one `( value, … )`, its values handed to the sink as they are read. */
  private row(): void {
    this.skipSpace(true);
    const start = this.pos;
    if (this.at(start) !== LPAREN) this.fail(start, `expected '(' to start a row, found ${this.found(start)}`);
    this.pos = start + 1;
    this.sink.startRow(this.columns);
    this.inRow = true;
    let count = 0;
    this.skipGap();
    let c = this.at(this.pos);
    if (c === RPAREN) {
      this.pos++;
    } else {
      for (;;) {
        if (c === -1) this.fail(start, 'row not closed by \')\' before the end of the file');
        this.value();
        count++;
        this.skipGap();
        c = this.at(this.pos);
        if (c === RPAREN) {
          this.pos++;
          break;
        }
        if (c === COMMA) {
          this.pos++;
          this.skipGap();
          c = this.at(this.pos);
          continue;
        }
        if (c === -1) this.fail(start, 'row not closed by \')\' before the end of the file');
        this.fail(this.pos, `expected ',' or ')' after a value, found ${this.found(this.pos)}`);
      }
    }
    if (this.width !== count) {
      if (this.width >= 0) {
        const other = this.columns ? 'the column list has' : 'the first row of the statement has';
        this.fail(start, `row has ${count} values but ${other} ${this.width}`);
      }
      this.width = count;
    }
    this.inRow = false;
    this.sink.endRow(this.base + this.pos);
    this.completed++;
    this.state = AFTER_ROW;
  }

  /** Step at AFTER_ROW: `,` (another row follows), `;` or the end of the file (end of the statement). */
  private afterRow(): void {
    this.skipSpace(true);
    const c = this.at(this.pos);
    if (c === COMMA) {
      this.pos++;
      this.state = EXPECT_ROW;
    } else if (c === SEMI) {
      this.pos++;
      this.state = TOP;
    } else if (c === -1) {
      this.state = TOP;
    } else {
      this.fail(this.pos, `expected ',' or ';' after a row, found ${this.found(this.pos)}`);
    }
  }

  /** One value at `pos`, handed to the sink (the caller made sure there is a byte there). */
  private value(): void {
    const i = this.pos;
    const c = this.buf[i];
    if (c === SQUOTE || c === DQUOTE) return this.string(c);
    if (c === ZERO) {
      const d = this.at(i + 1);
      if (d === 0x78) return this.sink.literalValue(this.buf, i, this.hexNumberEnd()); // 0x…
      if (d === 0x62) return this.sink.builtValue(this.bitNumber()); // 0b…
      return this.number();
    }
    if (isDigit(c) || c === MINUS || c === PLUS || c === DOT) return this.number();
    if ((c === 0x78 || c === 0x58) && this.at(i + 1) === SQUOTE) return this.hexString(); // X'…'
    if ((c === 0x62 || c === 0x42) && this.at(i + 1) === SQUOTE) return this.sink.builtValue(this.bitString()); // b'…'
    if (c === UNDERSCORE) return this.introduced();
    if (IDENT[c] === 1 && c < 0x80) return this.keywordValue();
    this.fail(i, `expected a value, found ${this.found(i)}`);
  }

  /** `NULL`; `TRUE`/`FALSE` verbatim. */
  private keywordValue(): void {
    const buf = this.buf;
    const s = this.pos;
    const e = this.wordEnd(s);
    const len = e - s;
    this.pos = e;
    // NULL is by far the most common: compare bytes (| 0x20 lowercases ASCII letters) without a string.
    if (len === 4 && (buf[s] | 0x20) === 0x6e && (buf[s + 1] | 0x20) === 0x75 && (buf[s + 2] | 0x20) === 0x6c && (buf[s + 3] | 0x20) === 0x6c) {
      return this.sink.nullValue();
    }
    const word = buf.toString('latin1', s, e);
    const upper = word.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return this.sink.literalValue(buf, s, e);
    this.fail(s, `unknown keyword '${word.length > 40 ? word.slice(0, 40) + '…' : word}' where a value was expected`);
  }

  /** A '…' or "…" string at `pos`: its body, escapes unresolved (the sink resolves them). */
  private string(q: number): void {
    const s = this.pos;
    const end = this.stringEnd(s, q);
    this.pos = end;
    this.sink.quotedValue(this.buf, s + 1, end - 1, this.stringBody, q);
  }

  /** End (just past the closing quote) of the string starting at `s`. */
  private stringEnd(s: number, q: number): number {
    const buf = this.buf;
    const n = buf.length;
    let escaped = false;
    /** An escape that reads otherwise in a LOAD DATA field. */
    let rewritten = false;
    let i = s + 1;
    for (;;) {
      i = this.stringStop(i, q);
      if (i + 1 >= n) {
        // The quote or backslash is the last byte received (or there is none): what follows decides.
        if (!this.eof) throw NEED_MORE;
        if (i >= n || buf[i] === BACKSLASH) this.fail(s, 'unterminated string starting here');
        i++; // closing quote at the very end of the file
        break;
      }
      if (buf[i] === BACKSLASH) {
        escaped = true;
        if (FIELD_REWRITTEN_ESCAPES[buf[i + 1]] === 1) rewritten = true;
        i += 2;
      } else if (buf[i + 1] === q) {
        escaped = true; // doubled quote
        i += 2;
      } else {
        i++;
        break;
      }
    }
    this.stringBody = escaped ? (rewritten ? 'escaped' : 'field-escaped') : 'plain';
    return i;
  }

  /** The first `q` or backslash at or after `i` in a string's body; the end of the bytes received if none. */
  private stringStop(i: number, q: number): number {
    const buf = this.buf;
    const n = buf.length;
    // Most strings end within a few bytes: a loop finds those sooner than calls into C++ would.
    const near = Math.min(n, i + 16);
    for (; i < near; i++) {
      const c = buf[i];
      if (c === q || c === BACKSLASH) return i;
    }
    if (i === n) return n;
    const quote = buf.indexOf(q, i);
    // A buffer with few backslashes is searched for them once, not once per string.
    if (this.nextBackslash < i) {
      const found = buf.indexOf(BACKSLASH, i);
      this.nextBackslash = found < 0 ? n : found;
    }
    return quote < 0 ? this.nextBackslash : Math.min(quote, this.nextBackslash);
  }

  /** A number: `[+-] digits [. digits] [e [+-] digits]` (at least one digit before the exponent), sent as written. */
  private number(): void {
    const buf = this.buf;
    const n = buf.length;
    const s = this.pos;
    let i = s;
    // Within the bytes received, read them directly; at their end, `at` decides (end of file, or wait for more).
    let c = i < n ? buf[i] : this.at(i);
    if (c === PLUS || c === MINUS) c = ++i < n ? buf[i] : this.at(i);
    let digits = 0;
    while (isDigit(c)) {
      digits++;
      c = ++i < n ? buf[i] : this.at(i);
    }
    if (c === DOT) {
      c = ++i < n ? buf[i] : this.at(i);
      while (isDigit(c)) {
        digits++;
        c = ++i < n ? buf[i] : this.at(i);
      }
    }
    if (digits === 0) this.fail(s, `invalid number starting with ${this.found(s)}`);
    if (c === 0x65 || c === 0x45) {
      // An exponent only if digits follow; otherwise the 'e' is left for the caller to reject.
      let j = i + 1;
      let d = this.at(j);
      if (d === PLUS || d === MINUS) d = this.at(++j);
      if (isDigit(d)) {
        while (isDigit(d)) d = this.at(++j);
        i = j;
      }
    }
    this.pos = i;
    this.sink.literalValue(buf, s, i);
  }

  /** Moves past `0x4142` (sent as written); returns where it ends. */
  private hexNumberEnd(): number {
    const s = this.pos;
    const e = this.digitsEnd(s + 2, HEX);
    if (e === s + 2) this.fail(s, 'invalid hex literal: no digits after 0x');
    this.pos = e;
    return e;
  }

  /** `0b0101` → "b'0101'". */
  private bitNumber(): string {
    const s = this.pos;
    const e = this.digitsEnd(s + 2, BITS);
    if (e === s + 2) this.fail(s, 'invalid bit literal: no binary digits after 0b');
    this.pos = e;
    return `b'${latin1(this.buf, s + 2, e)}'`;
  }

  /** `X'4142'` → '0x4142'; `X''` → "X''" verbatim (there is no empty 0x form). */
  private hexString(): void {
    const text = this.hexStringText();
    if (text.length === 3) this.sink.literalValue(this.buf, this.pos - 3, this.pos);
    else this.sink.builtValue(text);
  }

  private hexStringText(): string {
    const s = this.pos;
    const e = this.digitsEnd(s + 2, HEX);
    if (this.at(e) !== SQUOTE) this.fail(s, `invalid hex literal: expected hex digits and a closing quote, found ${this.found(e)}`);
    if ((e - s - 2) % 2 !== 0) this.fail(s, 'invalid hex literal: odd number of digits');
    this.pos = e + 1;
    return e === s + 2 ? latin1(this.buf, s, e + 1) : '0x' + latin1(this.buf, s + 2, e);
  }

  /** `b'0101'` / `B'0101'` → "b'0101'". */
  private bitString(): string {
    const s = this.pos;
    const e = this.digitsEnd(s + 2, BITS);
    if (this.at(e) !== SQUOTE) this.fail(s, `invalid bit literal: expected 0 or 1 and a closing quote, found ${this.found(e)}`);
    this.pos = e + 1;
    return `b'${latin1(this.buf, s + 2, e)}'`;
  }

  /** Index of the first byte from `i` not in `set`. */
  private digitsEnd(i: number, set: Uint8Array): number {
    for (;;) {
      const c = this.at(i);
      if (c < 0 || set[c] === 0) return i;
      i++;
    }
  }

  /** `_charset'…'` (optional whitespace before the quote): the string; `_charset 0x…` / `X'…'`: the bytes. */
  private introduced(): void {
    const s = this.pos;
    const e = this.wordEnd(s);
    let i = e;
    while (isSpace(this.at(i))) i++;
    const c = this.at(i);
    const what = `after the charset introducer '${this.buf.toString('latin1', s, Math.min(e, s + 40))}'`;
    if (e > s + 1 && (c === SQUOTE || c === DQUOTE)) {
      this.pos = i;
      return this.string(c);
    }
    let digits = '';
    this.pos = i;
    if (e > s + 1 && c === ZERO && this.at(i + 1) === 0x78) {
      digits = latin1(this.buf, i + 2, this.hexNumberEnd());
    } else if (e > s + 1 && (c === 0x78 || c === 0x58) && this.at(i + 1) === SQUOTE) {
      const text = this.hexStringText();
      digits = text.startsWith('0x') ? text.slice(2) : '';
    } else {
      this.fail(i, `expected a quoted string ${what}, found ${this.found(i)}`);
    }
    // 0x414 means 0x0414: pad an odd number of digits on the left.
    this.sink.builtValue(Buffer.from(digits.length % 2 === 1 ? '0' + digits : digits, 'hex'));
  }
}

/**
 * `\x` escapes a LOAD DATA field reads otherwise than SQL: `\%` and `\_` keep their backslash in
 * SQL, and `\N` is NULL in a field.
 */
const FIELD_REWRITTEN_ESCAPES = new Uint8Array(256);
FIELD_REWRITTEN_ESCAPES[0x25] = 1;
FIELD_REWRITTEN_ESCAPES[0x5f] = 1;
FIELD_REWRITTEN_ESCAPES[0x4e] = 1;

const BITS = new Uint8Array(256);
BITS[0x30] = 1;
BITS[0x31] = 1;

/** `'x'` for a printable ASCII byte, else `byte 0xNN`. */
function describeByte(c: number): string {
  if (c > SPACE && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  if (c === SPACE) return "' '";
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
