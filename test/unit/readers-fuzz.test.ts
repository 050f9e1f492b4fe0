/**
 * Seeded fuzz tests of the SQL and CSV readers (fixed seeds: every run checks the same cases).
 *
 * (a) Round trips: random rows of random values are written as SQL (random statement shapes,
 *     quoting, escapes, comments) and as CSV (random options), read back in random buffer sizes,
 *     and compared value by value, with end offsets; CSV is also read as two chunks split at a
 *     random endOffset.
 * (b) Mutations: valid inputs with random bytes deleted, inserted, flipped, duplicated or cut
 *     off must either read or fail with a SourceFormatError whose offset is inside the input —
 *     never another exception, never a hang — and read the same whole and in small buffers.
 *
 * The cases run in a worker thread and report each case as it starts: a case that does not finish
 * within CASE_TIMEOUT_MS (an endless loop in synchronous parsing code cannot be interrupted from
 * the same thread) terminates the worker and fails the test, naming the case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readCsvRows, type CsvOptions } from '../../activities/source/csv-reader';
import { SourceFormatError, type SourceRow, type SourceValue } from '../../activities/source/row';
import { readSqlRows } from '../../activities/source/sql-reader';

type Kind = 'sql-roundtrip' | 'csv-roundtrip' | 'sql-mutation' | 'csv-mutation';

interface Job {
  kind: Kind;
  seed: number;
  cases: number;
}

type Report = { type: 'start'; index: number } | { type: 'fail'; index: number; message: string } | { type: 'done' };

const JOBS: Job[] = [
  { kind: 'sql-roundtrip', seed: 1, cases: 1000 },
  { kind: 'csv-roundtrip', seed: 2, cases: 1500 },
  { kind: 'sql-mutation', seed: 3, cases: 2000 },
  { kind: 'csv-mutation', seed: 4, cases: 2000 },
];
const CASE_TIMEOUT_MS = 5000;
const MAX_FAILURES = 5;

// ---------------------------------------------------------------------------------------------
// Main thread: run a job in a worker, with a per-case timeout

function runJob(job: Job): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: job });
    const failures: string[] = [];
    let current = -1;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`${job.kind} seed ${job.seed} case ${current} did not finish within ${CASE_TIMEOUT_MS} ms (a hang?)`));
      }, CASE_TIMEOUT_MS);
    };
    arm();
    worker.on('message', (report: Report) => {
      if (report.type === 'start') {
        current = report.index;
        arm();
      } else if (report.type === 'fail') {
        failures.push(`case ${report.index}: ${report.message}`);
      } else {
        clearTimeout(timer);
        void worker.terminate();
        if (failures.length > 0) reject(new Error(`${job.kind} seed ${job.seed}: ${failures.length} failing case(s)\n\n${failures.join('\n\n')}`));
        else resolve();
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Worker: the cases

async function work(job: Job): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const run = { 'sql-roundtrip': sqlRoundTrip, 'csv-roundtrip': csvRoundTrip, 'sql-mutation': sqlMutation, 'csv-mutation': csvMutation }[job.kind];
  let failures = 0;
  for (let index = 0; index < job.cases && failures < MAX_FAILURES; index++) {
    port.postMessage({ type: 'start', index } satisfies Report);
    try {
      await run(new Rng(job.seed * 1_000_003 + index));
    } catch (e) {
      failures++;
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      port.postMessage({ type: 'fail', index, message: message.slice(0, 4000) } satisfies Report);
    }
  }
  port.postMessage({ type: 'done' } satisfies Report);
}

/** mulberry32: small, fast, good enough, and the same on every machine. */
class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function chunkSize(r: Rng, length: number): number {
  const size = r.pick([1, 2, 3, 7, 64, 4096, 0]);
  return size === 0 ? Math.max(1, length) : size;
}

/** Shows an input in a failure message. */
function show(data: Buffer): string {
  const text = JSON.stringify(data.toString('latin1'));
  return text.length > 1500 ? text.slice(0, 1500) + '…' : text;
}

interface Outcome {
  rows: SourceRow[];
  error?: { offset: number; reason: string };
}

/** Reads all rows, catching a SourceFormatError (any other exception propagates and fails the case). */
async function outcome(rows: AsyncGenerator<SourceRow[]>): Promise<Outcome> {
  const out: Outcome = { rows: [] };
  try {
    for await (const group of rows) {
      assert.ok(group.length > 0, 'groups are never empty');
      out.rows.push(...group);
    }
  } catch (e) {
    if (!(e instanceof SourceFormatError)) throw e;
    out.error = { offset: e.offset, reason: e.reason };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Random values

const WORDS = ['a', 'abc', 'Hello', 'x1', 'N', 'NULL', 'null', 'TRUE', 'zz', '42', '0', 'b', 'n', 'r', 't', 'Z'];
const UTF8 = ['é', '中文', '😀', '👨‍👩‍👧', '한', 'Ω', '\u00a0'];

/** Random bytes made of words, the given special tokens, UTF-8 characters and single bytes (not in `avoid`). */
function randomBytes(r: Rng, tokens: readonly string[], maxParts: number, avoid: Set<number> = new Set()): Buffer {
  const parts: Buffer[] = [];
  const n = r.int(maxParts + 1);
  for (let i = 0; i < n; i++) {
    const k = r.next();
    if (k < 0.4) parts.push(Buffer.from(r.pick(WORDS)));
    else if (k < 0.75) parts.push(Buffer.from(r.pick(tokens)));
    else if (k < 0.88) parts.push(Buffer.from(r.pick(UTF8)));
    else {
      const c = r.int(256);
      parts.push(Buffer.from([avoid.has(c) ? 0x78 : c]));
    }
  }
  return Buffer.concat(parts);
}

function digits(r: Rng, alphabet: string, min: number, max: number): string {
  let s = '';
  const n = r.range(min, max);
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

/** Collects output bytes and knows its length (for expected end offsets). */
class Writer {
  private parts: Buffer[] = [];
  length = 0;
  write(data: string | Buffer): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.parts.push(b);
    this.length += b.length;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// ---------------------------------------------------------------------------------------------
// SQL

const SQL_TOKENS = ["'", '"', '\\', ',', ';', '(', ')', '\n', '\r', '\t', '\0', '\x1a', '\b', '%', '_', '#', '-- ', '/*', '*/', ' ', '\\%', '\\_', '`', 'NULL'];
const SKIPPED = [
  'SET NAMES binary;',
  '/*!40101 SET NAMES binary*/;',
  '/*!40014 SET FOREIGN_KEY_CHECKS=0*/;',
  'LOCK TABLES `t` WRITE;',
  'UNLOCK TABLES;',
  'START TRANSACTION;',
  'begin;',
  'COMMIT;',
  ';',
  "SET @a = 'x;y', @b = \"it\\\"s;\";",
  '-- comment\n',
  '# comment\n',
  '/* comment; (with) \'quotes\' */',
  '\n',
];
const GAPS = ['', '', '', '', ' ', ' ', '\n', '\t', '  \r\n', '/* c */', '-- c\n', '# c\n', '/*!40101 x */'];
const SEPARATING_GAPS = GAPS.filter((g) => g !== '');
const TABLES = ['t', '`t`', '`db`.`t`', '"t"', 'db . t', '`we``ird`', '`表`'];
const COLUMN_NAMES = ['id', 'name', 'a b', 'x`y', 'q"r', '列', '😀', '_c1', 'VALUES'];

function sqlName(r: Rng, name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name !== 'VALUES' && r.chance(0.4)) return name;
  if (r.chance(0.5)) return '`' + name.replace(/`/g, '``') + '`';
  return '"' + name.replace(/"/g, '""') + '"';
}

/** A quoted SQL string holding `value`, with randomly chosen (but equivalent) escapes. */
function sqlString(r: Rng, value: Buffer): Buffer {
  const q = r.chance(0.7) ? 0x27 : 0x22;
  const other = q === 0x27 ? 0x22 : 0x27;
  const out: number[] = [q];
  const control: Record<number, number> = { 0x00: 0x30, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74, 0x1a: 0x5a, 0x08: 0x62 };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === q) {
      out.push(...(r.chance(0.5) ? [0x5c, q] : [q, q]));
    } else if (c === other) {
      out.push(...(r.chance(0.3) ? [0x5c, c] : [c]));
    } else if (c === 0x5c) {
      const d = value[i + 1];
      if ((d === 0x25 || d === 0x5f) && r.chance(0.5)) {
        out.push(0x5c, d); // \% and \_ stand for themselves, backslash included
        i++;
      } else {
        out.push(0x5c, 0x5c);
      }
    } else if (control[c] !== undefined && r.chance(0.5)) {
      out.push(0x5c, control[c]);
    } else if (r.chance(0.03) && !'0bnrtZ%_'.includes(String.fromCharCode(c))) {
      out.push(0x5c, c); // any other \x is x
    } else {
      out.push(c);
    }
  }
  out.push(q);
  return Buffer.from(out);
}

/** One random SQL value: its text and the value the reader must produce. */
function sqlValue(r: Rng): { text: string | Buffer; value: SourceValue } {
  const sign = (): string => r.pick(['', '', '-', '+']);
  switch (r.int(10)) {
    case 0:
      return { text: r.pick(['NULL', 'null', 'Null']), value: null };
    case 1: {
      const text = sign() + digits(r, '0123456789', 1, 19);
      return { text, value: text };
    }
    case 2: {
      const int = digits(r, '0123456789', 1, 6);
      const frac = digits(r, '0123456789', 1, 6);
      const text = sign() + r.pick([`${int}.${frac}`, `.${frac}`, `${int}.`, `${int}e${sign()}${frac}`, `${int}.${frac}E${frac}`]);
      return { text, value: text };
    }
    case 3: {
      const text = r.pick(['TRUE', 'true', 'FALSE', 'False']);
      return { text, value: text };
    }
    case 4: {
      const hex = digits(r, '0123456789abcdefABCDEF', 0, 8);
      if (hex.length === 0) {
        const text = r.pick(["X''", "x''"]);
        return { text, value: text };
      }
      if (hex.length % 2 === 1 || r.chance(0.5)) return { text: '0x' + hex, value: '0x' + hex };
      return { text: `${r.pick(['X', 'x'])}'${hex}'`, value: '0x' + hex };
    }
    case 5: {
      const bits = digits(r, '01', 0, 12);
      if (bits.length > 0 && r.chance(0.4)) return { text: '0b' + bits, value: `b'${bits}'` };
      return { text: `${r.pick(['b', 'B'])}'${bits}'`, value: `b'${bits}'` };
    }
    case 6: {
      // An introducer before a hex literal makes it a string: the decoded bytes.
      const bytes = Buffer.from(Array.from({ length: r.int(4) }, () => r.int(256)));
      const hex = bytes.toString('hex');
      const text = hex !== '' && r.chance(0.5) ? `_binary 0x${hex}` : `_utf8mb4${r.pick([' ', '\n'])}X'${hex}'`;
      return { text, value: bytes };
    }
    default: {
      const bytes = randomBytes(r, SQL_TOKENS, 8);
      const introducer = r.pick(['', '', '', '_binary', '_utf8mb4 ', '_latin1\n']);
      return { text: Buffer.concat([Buffer.from(introducer), sqlString(r, bytes)]), value: bytes };
    }
  }
}

interface ExpectedRow {
  values: SourceValue[];
  columns: readonly string[] | undefined;
  endOffset: number;
}

function generateSql(r: Rng, maxStatements: number, maxRows: number, maxValues: number): { data: Buffer; rows: ExpectedRow[] } {
  const w = new Writer();
  const rows: ExpectedRow[] = [];
  const gap = (): string => r.pick(GAPS);
  const sep = (): string => r.pick(SEPARATING_GAPS);
  if (r.chance(0.05)) w.write('\ufeff');
  const statements = r.range(1, maxStatements);
  for (let s = 0; s < statements; s++) {
    while (r.chance(0.4)) w.write(r.pick(SKIPPED) + gap());
    const head = r.pick([['INSERT', 'INTO'], ['insert', 'into'], ['INSERT', 'IGNORE', 'INTO'], ['REPLACE', 'INTO'], ['Replace', 'Into']]);
    w.write(head.join(sep()) + sep() + r.pick(TABLES));
    const width = r.range(0, maxValues);
    let columns: string[] | undefined;
    if (r.chance(0.5)) {
      columns = [];
      for (let i = 0; i < width; i++) columns.push(r.pick(COLUMN_NAMES));
      w.write(gap() + '(' + gap() + columns.map((c) => sqlName(r, c)).join(`${gap()},${gap()}`) + gap() + ')' + gap());
    } else {
      w.write(sep());
    }
    w.write(r.pick(['VALUES', 'values', 'VALUE']) + gap());
    const count = r.range(1, maxRows);
    for (let i = 0; i < count; i++) {
      if (i > 0) w.write(gap() + ',' + gap());
      w.write('(' + gap());
      const values: SourceValue[] = [];
      for (let v = 0; v < width; v++) {
        if (v > 0) w.write(gap() + ',' + gap());
        const { text, value } = sqlValue(r);
        w.write(text);
        values.push(value);
      }
      w.write(gap() + ')');
      rows.push({ values, columns, endOffset: w.length });
    }
    // The last statement may end at the end of the file without ';' (then nothing may follow).
    if (s < statements - 1 || r.chance(0.8)) w.write(gap() + ';' + r.pick(['\n', '', ' ']));
    else return { data: w.bytes(), rows };
  }
  while (r.chance(0.3)) w.write(r.pick(SKIPPED));
  return { data: w.bytes(), rows };
}

async function sqlRoundTrip(r: Rng): Promise<void> {
  const { data, rows } = generateSql(r, 5, 6, 6);
  const size = chunkSize(r, data.length);
  const got = await outcome(readSqlRows(chunked(data, size), { path: 'fuzz.sql' }));
  assert.deepStrictEqual(got, { rows }, `SQL read in ${size}-byte buffers: ${show(data)}`);
}

// ---------------------------------------------------------------------------------------------
// CSV

interface CsvFile {
  options: CsvOptions;
  data: Buffer;
  columns: string[] | undefined;
  rows: { values: SourceValue[]; start: number; end: number }[];
  headerEnd: number;
}

function randomCsvOptions(r: Rng): CsvOptions {
  const options: CsvOptions = {
    separator: r.pick([',', ',', '\t', '|', '||', ';;', '，']),
    delimiter: r.pick(['"', '"', "'", '', '~~']),
    terminator: r.pick(['', '', '\n', '\r\n', '<>\n']),
    header: r.chance(0.4),
    notNull: r.chance(0.15),
    null: r.pick([['\\N'], ['\\N'], ['\\N', 'NULL'], ['NULL'], ['\\N', '']]),
    backslashEscape: r.chance(0.75),
    trimLastSeparator: r.chance(0.2),
  };
  if (r.chance(0.15)) options.escapedBy = r.pick(['^', '\\']);
  return options;
}

/** The escape character the reader will use ('' for none), as csv-reader documents it. */
function escapeOf(o: CsvOptions): string {
  const by = o.escapedBy ?? '';
  if (by !== '' && !(by === '\\' && !o.backslashEscape)) return by;
  return o.backslashEscape ? '\\' : '';
}

/**
 * Writes one CSV field holding `value` (header: NULL rules off), or returns undefined when these
 * options cannot express it.
 */
function csvField(r: Rng, o: CsvOptions, value: Buffer | null, header: boolean): Buffer | undefined {
  const esc = escapeOf(o);
  const escByte = esc === '' ? -1 : esc.charCodeAt(0);
  if (value === null) {
    const choices: Buffer[] = o.null.map((t) => Buffer.from(t));
    if (esc !== '' && o.delimiter !== '' && o.null.includes(esc + 'N')) choices.push(Buffer.from(o.delimiter + esc + 'N' + o.delimiter));
    return r.pick(choices);
  }
  // Bytes that need care: all bytes of the separator, terminator (or \r, \n) and delimiter.
  const special = new Set<number>(Buffer.from(o.separator + (o.terminator || '\r\n') + o.delimiter));
  const control: Record<number, number> = { 0x00: 0x30, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74, 0x1a: 0x5a, 0x08: 0x62 };
  const escaped = (c: number): number[] => (control[c] !== undefined && r.chance(0.5) ? [escByte, control[c]] : [escByte, c]);

  const quoted = o.delimiter !== '' && (r.chance(0.5) || (esc === '' && value.some((c) => special.has(c))));
  if (quoted) {
    const d = Buffer.from(o.delimiter);
    const out: number[] = [...d];
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      if (c === escByte) out.push(escByte, escByte);
      else if (value.subarray(i, i + d.length).equals(d)) {
        if (d.length === 1 && escByte >= 0 && r.chance(0.5)) out.push(escByte, c);
        else out.push(...d, ...d);
        i += d.length - 1;
      } else if (escByte >= 0 && (control[c] !== undefined || (c > 0x20 && !'0bnrtZN'.includes(String.fromCharCode(c)))) && r.chance(0.05)) {
        out.push(...escaped(c));
      } else out.push(c);
    }
    out.push(...d);
    return Buffer.from(out);
  }
  const out: number[] = [];
  for (const c of value) {
    if (c === escByte || special.has(c)) {
      if (escByte < 0) return undefined; // would need quotes
      out.push(...escaped(c));
    } else if (escByte >= 0 && control[c] !== undefined && r.chance(0.2)) {
      out.push(escByte, control[c]);
    } else out.push(c);
  }
  const raw = Buffer.from(out);
  if (!header && !o.notNull && o.null.some((t) => Buffer.from(t).equals(raw))) return undefined; // would read as NULL
  return raw;
}

function csvTokens(o: CsvOptions): string[] {
  return [o.separator, o.delimiter || '"', o.terminator || '\n', '\r', '\n', '\r\n', '\\', '^', '\\N', 'N', 'NULL', ',', '"', "'", ' ', '\t', '\0'];
}

/** Bytes never generated alone: those of multi-byte patterns (a lone '|' next to '||' is ambiguous). */
function csvAvoid(o: CsvOptions): Set<number> {
  const avoid = new Set<number>();
  for (const p of [o.separator, o.delimiter, o.terminator]) if (Buffer.byteLength(p) > 1) for (const c of Buffer.from(p)) avoid.add(c);
  return avoid;
}

function generateCsv(r: Rng, o: CsvOptions, maxRows: number, maxColumns: number): CsvFile {
  const w = new Writer();
  const tokens = csvTokens(o);
  const avoid = csvAvoid(o);
  const width = r.range(1, maxColumns);
  const lineEnd = (): string => o.terminator || r.pick(['\n', '\r\n', '\r']);
  let endsWithCR = false;
  const endLine = (text: string): void => {
    w.write(text);
    endsWithCR = text.endsWith('\r');
  };
  /** A field for `value`; if the options cannot express it, a plain word instead (returned too). */
  const field = (value: Buffer | null, header: boolean): { bytes: Buffer; value: Buffer | null } => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const bytes = csvField(r, o, value, header);
      if (bytes !== undefined) return { bytes, value };
      value = randomBytes(r, tokens, 3, avoid);
    }
    value = Buffer.from('plain');
    return { bytes: Buffer.from('plain'), value };
  };
  const line = (values: (Buffer | null)[], header: boolean): { bytes: Buffer; values: (Buffer | null)[] } => {
    const fields = values.map((v) => field(v, header));
    const parts: Buffer[] = [];
    fields.forEach((f, i) => {
      if (i > 0) parts.push(Buffer.from(o.separator));
      parts.push(f.bytes);
    });
    if (o.trimLastSeparator) parts.push(Buffer.from(o.separator));
    return { bytes: Buffer.concat(parts), values: fields.map((f) => f.value) };
  };
  const emptyLines = (): void => {
    while (r.chance(0.1)) {
      let e = lineEnd();
      if (endsWithCR && e === '\n') e = '\r'; // "\r" + "\n" would be one line break
      endLine(e);
    }
  };

  let columns: string[] | undefined;
  let headerEnd = 0;
  if (r.chance(0.05)) w.write('\ufeff');
  emptyLines();
  if (o.header) {
    for (;;) {
      const names: string[] = [];
      for (let i = 0; i < width; i++) names.push(randomBytes(r, [...UTF8, ...tokens], 3, avoid).toString('utf8') || 'c');
      // Only names that survive a UTF-8 round trip (random single bytes may not be valid UTF-8).
      const written = line(
        names.map((n) => Buffer.from(n, 'utf8')),
        true,
      );
      if (written.bytes.length === 0) continue;
      columns = written.values.map((v) => (v as Buffer).toString('utf8'));
      w.write(written.bytes);
      endLine(lineEnd());
      headerEnd = w.length;
      break;
    }
  }
  const rows: CsvFile['rows'] = [];
  const count = r.range(0, maxRows);
  for (let i = 0; i < count; i++) {
    emptyLines();
    const start = w.length;
    for (;;) {
      const values: (Buffer | null)[] = [];
      for (let c = 0; c < width; c++) values.push(!o.notNull && r.chance(0.15) ? null : randomBytes(r, tokens, 6, avoid));
      const written = line(values, false);
      if (written.bytes.length === 0) continue; // an empty line is not a row
      w.write(written.bytes);
      const last = i === count - 1;
      rows.push({ values: written.values, start, end: w.length });
      // The last line may lack its terminator; then nothing may follow (it would end that row later).
      if (last && r.chance(0.3)) return { options: o, data: w.bytes(), columns, rows, headerEnd };
      endLine(lineEnd());
      rows[rows.length - 1].end = w.length;
      break;
    }
  }
  emptyLines();
  return { options: o, data: w.bytes(), columns, rows, headerEnd };
}

async function csvRoundTrip(r: Rng): Promise<void> {
  const o = randomCsvOptions(r);
  const file = generateCsv(r, o, 12, 5);
  const { data } = file;
  const where = `options ${JSON.stringify(o)}, data ${show(data)}`;
  const expected = (from: number, to: number, columns: readonly string[] | undefined): SourceRow[] =>
    file.rows.filter((row) => row.start >= from && row.start < to).map((row) => ({ values: row.values, columns, endOffset: row.end }));

  // The whole file.
  const size = chunkSize(r, data.length);
  const whole = await outcome(readCsvRows(chunked(data, size), { path: 'fuzz.csv', csv: o, startOffset: 0 }));
  assert.deepStrictEqual(whole, { rows: expected(0, Infinity, file.columns) }, `whole file in ${size}-byte buffers, ${where}`);

  // Two chunks: [0, E) then from the end of the last row read.
  const E = r.int(data.length + 1);
  const first = await outcome(readCsvRows(chunked(data, chunkSize(r, data.length)), { path: 'fuzz.csv', csv: o, startOffset: 0, endOffset: E }));
  assert.deepStrictEqual(first, { rows: expected(0, E, file.columns) }, `first chunk [0, ${E}), ${where}`);
  const S = first.rows.length > 0 ? first.rows[first.rows.length - 1].endOffset : o.header ? file.headerEnd : 0;
  const rest = data.subarray(S);
  const second = await outcome(readCsvRows(chunked(rest, chunkSize(r, rest.length)), { path: 'fuzz.csv', csv: o, startOffset: S, columns: file.columns }));
  assert.deepStrictEqual(second, { rows: expected(E, Infinity, file.columns) }, `second chunk from ${S}, ${where}`);
}

// ---------------------------------------------------------------------------------------------
// Mutations

const MUTATION_BYTES = ["'", '"', '\\', '(', ')', ',', ';', '\n', '\r', '`', '/*', '*/', '-- ', '#', '0x', "X'", "b'", '_binary', 'NULL', '~~', '||', '<>\n', '^', '\ufeff'];

function mutate(r: Rng, data: Buffer): Buffer {
  let out = data;
  const count = r.range(1, 3);
  for (let i = 0; i < count; i++) {
    const at = r.int(out.length + 1);
    switch (r.int(6)) {
      case 0: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + r.range(1, 8))]);
        break;
      case 1: {
        // insert a token or random bytes
        const insert = r.chance(0.6) ? Buffer.from(r.pick(MUTATION_BYTES)) : Buffer.from(Array.from({ length: r.range(1, 4) }, () => r.int(256)));
        out = Buffer.concat([out.subarray(0, at), insert, out.subarray(at)]);
        break;
      }
      case 2: // flip a byte
        if (at < out.length) {
          out = Buffer.from(out);
          out[at] ^= 1 << r.int(8);
        }
        break;
      case 3: {
        // duplicate a range
        const end = Math.min(out.length, at + r.range(1, 12));
        out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      }
      case 4: // truncate
        out = out.subarray(0, at);
        break;
      default:
        // replace a byte by a token
        out = Buffer.concat([out.subarray(0, at), Buffer.from(r.pick(MUTATION_BYTES)), out.subarray(at + 1)]);
    }
  }
  return out;
}

/** The invariants a reading of any input must keep. */
function checkOutcome(got: Outcome, start: number, length: number, what: string): void {
  let previous = start;
  for (const row of got.rows) {
    assert.ok(row.endOffset > previous && row.endOffset <= start + length, `end offset ${row.endOffset} out of order or range, ${what}`);
    previous = row.endOffset;
  }
  if (got.error) {
    const { offset } = got.error;
    assert.ok(Number.isInteger(offset) && offset >= start && offset <= start + length, `error offset ${offset} outside [${start}, ${start + length}], ${what}`);
    assert.ok(got.error.reason.length > 0 && got.error.reason.length < 200, `reason '${got.error.reason}', ${what}`);
    assert.ok(!got.error.reason.startsWith('internal error'), `${got.error.reason}, ${what}`);
  }
}

async function sqlMutation(r: Rng): Promise<void> {
  const data = mutate(r, generateSql(r, 3, 3, 4).data);
  const what = `data ${show(data)}`;
  const whole = await outcome(readSqlRows(chunked(data, Math.max(1, data.length)), { path: 'fuzz.sql' }));
  checkOutcome(whole, 0, data.length, what);
  const size = r.pick([1, 2, 3, 5, 16]);
  const small = await outcome(readSqlRows(chunked(data, size), { path: 'fuzz.sql' }));
  assert.deepStrictEqual(small, whole, `the same in ${size}-byte buffers, ${what}`);
}

async function csvMutation(r: Rng): Promise<void> {
  const o = randomCsvOptions(r);
  const data = mutate(r, generateCsv(r, o, 5, 4).data);
  const startOffset = r.chance(0.3) ? r.int(1000) : 0;
  const what = `options ${JSON.stringify(o)}, start ${startOffset}, data ${show(data)}`;
  const read = (size: number): Promise<Outcome> => outcome(readCsvRows(chunked(data, size), { path: 'fuzz.csv', csv: o, startOffset }));
  const whole = await read(Math.max(1, data.length));
  checkOutcome(whole, startOffset, data.length, what);
  const size = r.pick([1, 2, 3, 5, 16]);
  assert.deepStrictEqual(await read(size), whole, `the same in ${size}-byte buffers, ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Entry point (last, so that every declaration above is initialised when the worker starts)

if (isMainThread) {
  for (const job of JOBS) {
    test(`fuzz ${job.kind}: ${job.cases} cases, seed ${job.seed}`, () => runJob(job));
  }
} else {
  void work(workerData as Job);
}
