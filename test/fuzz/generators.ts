/**
 * Random valid SQL and CSV data files whose rows are known: the round-trip campaigns compare what
 * the readers make of them value by value, and the mutation campaigns start from them too.
 */
import type { CsvOptions } from '../../activities/source/csv-reader';
import type { SourceValue } from '../../activities/source/row';
import type { Rng } from './random';


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

export interface ExpectedRow {
  values: SourceValue[];
  columns: readonly string[] | undefined;
  endOffset: number;
}

export function generateSql(r: Rng, maxStatements: number, maxRows: number, maxValues: number): { data: Buffer; rows: ExpectedRow[] } {
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

// ---------------------------------------------------------------------------------------------
// CSV

export interface CsvFile {
  options: CsvOptions;
  data: Buffer;
  columns: string[] | undefined;
  rows: { values: SourceValue[]; start: number; end: number }[];
  headerEnd: number;
}

export function randomCsvOptions(r: Rng): CsvOptions {
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
    // A quoted null text is NULL too, as Lightning reads it (the text itself needs no escape here).
    if (o.delimiter !== '') for (const t of o.null) if (!t.includes(o.delimiter) && (esc === '' || !t.includes(esc))) choices.push(Buffer.from(o.delimiter + t + o.delimiter));
    return r.pick(choices);
  }
  // Bytes that need care: all bytes of the separator, terminator (or \r, \n) and delimiter.
  const special = new Set<number>(Buffer.from(o.separator + (o.terminator || '\r\n') + o.delimiter));
  const control: Record<number, number> = { 0x00: 0x30, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74, 0x1a: 0x5a, 0x08: 0x62 };
  const escaped = (c: number): number[] => (control[c] !== undefined && r.chance(0.5) ? [escByte, control[c]] : [escByte, c]);

  // A quoted field whose text is a null text reads as NULL (but `\N` made by an escaped escape).
  const quotedIsNull = !header && !o.notNull && o.null.some((t) => Buffer.from(t).equals(value)) && !(esc !== '' && value.equals(Buffer.from(esc + 'N')) && o.null.includes(esc + 'N'));
  const quoted = o.delimiter !== '' && !quotedIsNull && (r.chance(0.5) || (esc === '' && value.some((c) => special.has(c))));
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

export function generateCsv(r: Rng, o: CsvOptions, maxRows: number, maxColumns: number): CsvFile {
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

