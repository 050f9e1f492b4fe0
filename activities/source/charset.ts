/**
 * Source character sets (`[mydumper] data-character-set` and `character-set`): converting a data
 * file's bytes to UTF-8 before the SQL and CSV readers see them.
 *
 * Why the whole stream, and not each value after parsing: in GBK and GB18030 the second byte of a
 * two-byte character can be an ASCII byte, `\` (0x5C) among them. A byte-level reader would take
 * such a byte for an escape (`乗'` is `81 5C 27`: the quote would look escaped) and misread every
 * row after it. Converted to UTF-8, every ASCII byte the readers see is a real ASCII character.
 *
 * Positions stay source positions: chunk offsets, committed positions and error offsets count bytes
 * of the source (uncompressed) stream, and converting changes lengths. The converter records where
 * the difference between the two streams changes (at the end of each non-ASCII run whose UTF-8 form
 * has another length) and `sourceOffset` maps a reader's offset back. A row ends just after an ASCII
 * byte (`)` or a line terminator), which is always a character boundary in both streams, so the
 * mapping of every row end is exact.
 *
 * How a run is converted: ASCII bytes are copied as they are; a run of characters that start with a
 * byte ≥ 0x80 is cut by the character set's own structure (lead and trail byte ranges, as MySQL
 * checks well-formedness) and decoded by iconv-lite. So a malformed or unmapped character is
 * replaced whole by `data-invalid-char-replace` and never lets one of its bytes out as ASCII.
 *
 * `auto` has no whole file to look at in a stream: the first non-ASCII run decides, UTF-8 if it is
 * valid UTF-8, else GB18030. Bytes that are not UTF-8 further on in a file read as UTF-8 are an
 * error naming their offset, never text decoded the wrong way. (A resumed CSV chunk decides again
 * from where it resumes; a file that is all UTF-8 or all GB18030 decides the same anywhere.)
 *
 * The converted values are UTF-8: they land as they should in utf8mb4/utf8 (and binary) columns, as
 * in TiDB Lightning, whose targets are utf8mb4. A target column in the file's own character set
 * wants `binary` instead: its bytes then pass untouched.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { SourceFormatError } from './row';

export type CharacterSet = 'auto' | 'utf8mb4' | 'utf8' | 'gb18030' | 'gbk' | 'latin1' | 'binary';

export interface DecodeOptions {
  characterSet: CharacterSet;
  /** What a byte sequence invalid in the character set becomes (`data-invalid-char-replace`). */
  replacement: string;
  path: string;
  /** Source offset of the first byte of the input; the readers' offsets start at the same number. */
  startOffset: number;
  /** A planned chunk end (source offset): the converted stream stops there. */
  endOffset?: number;
}

export interface DecodedSource {
  /** The bytes for the readers: UTF-8, or the source bytes untouched with `binary`. */
  bytes: AsyncIterable<Buffer>;
  /**
   * Where the readers must stop, in their own offsets: the planned end when the bytes are the
   * source's, else undefined (the converted stream itself ends there).
   */
  readerEndOffset: number | undefined;
  /** The source offset of a reader's offset; asked in increasing order (row ends). */
  sourceOffset(offset: number): number;
  /** A reader's SourceFormatError with its offset mapped to the source; anything else as it is. */
  sourceError(error: unknown): unknown;
}

/** Converts a data file's byte stream to UTF-8 (or passes it through with `binary`). */
export function decodeSource(input: AsyncIterable<Buffer>, options: DecodeOptions): DecodedSource {
  if (options.characterSet === 'binary') {
    return { bytes: input, readerEndOffset: options.endOffset, sourceOffset: (offset) => offset, sourceError: (error) => error };
  }
  return new DecodingStream(input, options);
}

/**
 * A whole schema file in `character-set`, as UTF-8. `auto` is UTF-8 when the file is valid UTF-8,
 * else GB18030 (as in Lightning); bytes invalid in the character set are an error, since a
 * replaced character in a CREATE statement would change a name or a default silently.
 */
export function decodeSchemaFile(bytes: Buffer, characterSet: CharacterSet, path: string): Buffer {
  if (characterSet === 'binary') return bytes;
  if (characterSet !== 'auto') return convertStrictly(bytes, characterSet, path);
  let notUtf8: SourceFormatError;
  try {
    return convertStrictly(bytes, 'utf8', path);
  } catch (error) {
    if (!(error instanceof SourceFormatError)) throw error;
    notUtf8 = error;
  }
  try {
    return convertStrictly(bytes, 'gb18030', path);
  } catch (error) {
    if (!(error instanceof SourceFormatError)) throw error;
    throw new SourceFormatError(
      path,
      notUtf8.offset,
      'the schema file is neither UTF-8 nor GB18030 (character-set = "auto"); set [mydumper] character-set to its character set, or to "binary" to send its bytes as they are',
    );
  }
}

function convertStrictly(bytes: Buffer, characterSet: Exclude<CharacterSet, 'binary' | 'auto'>, path: string): Buffer {
  return new Converter(characterSet, undefined, path).convert(bytes, 0, true).output;
}

class DecodingStream implements DecodedSource {
  readonly bytes: AsyncIterable<Buffer>;
  readonly readerEndOffset = undefined;
  /** Points where the offset difference changes: from reader offset `changeAt[k]` on, source = reader + `changeDelta[k]`. */
  private changeAt: number[] = [];
  private changeDelta: number[] = [];
  private next = 0;
  private delta = 0;
  /** Errors whose offsets are source offsets already (from the decompressor, the file, or the converter). */
  private readonly sourceErrors = new WeakSet<object>();

  constructor(input: AsyncIterable<Buffer>, private readonly options: DecodeOptions) {
    this.bytes = this.convert(input);
  }

  sourceOffset(offset: number): number {
    while (this.next < this.changeAt.length && this.changeAt[this.next] <= offset) {
      this.delta = this.changeDelta[this.next++];
    }
    // Drop what was passed, now and then, so the list holds only the changes ahead of the readers.
    if (this.next > 1024) {
      this.changeAt = this.changeAt.slice(this.next);
      this.changeDelta = this.changeDelta.slice(this.next);
      this.next = 0;
    }
    return offset + this.delta;
  }

  sourceError(error: unknown): unknown {
    if (!(error instanceof SourceFormatError) || this.sourceErrors.has(error)) return error;
    return new SourceFormatError(error.path, this.sourceOffset(error.offset), error.reason);
  }

  private async *convert(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const { startOffset, endOffset } = this.options;
    const converter = new Converter(this.options.characterSet as Exclude<CharacterSet, 'binary'>, this.options.replacement, this.options.path);
    let sourcePosition = startOffset;
    let readerPosition = startOffset;
    let held: Buffer | undefined;
    const iterator = input[Symbol.asyncIterator]();
    try {
      for (;;) {
        let result: IteratorResult<Buffer>;
        try {
          result = await iterator.next();
        } catch (error) {
          if (error instanceof Object) this.sourceErrors.add(error);
          throw error;
        }
        let chunk = result.done ? Buffer.alloc(0) : result.value;
        let final = result.done === true;
        if (endOffset !== undefined && sourcePosition + (held?.length ?? 0) + chunk.length >= endOffset) {
          chunk = chunk.subarray(0, Math.max(0, endOffset - sourcePosition - (held?.length ?? 0)));
          final = true;
        }
        if (chunk.length === 0 && !final) continue;
        const bytes = held ? Buffer.concat([held, chunk]) : chunk;
        let converted: Converted;
        try {
          converted = converter.convert(bytes, sourcePosition, final);
        } catch (error) {
          if (error instanceof Object) this.sourceErrors.add(error);
          throw error;
        }
        const { changes } = converted;
        for (let k = 0; k < changes.length; k += 2) {
          this.changeAt.push(readerPosition + changes[k + 1]);
          this.changeDelta.push(sourcePosition + changes[k] - (readerPosition + changes[k + 1]));
        }
        sourcePosition += converted.consumed;
        readerPosition += converted.output.length;
        held = converted.consumed < bytes.length ? bytes.subarray(converted.consumed) : undefined;
        if (converted.output.length > 0) yield converted.output;
        if (final) return;
      }
    } finally {
      await iterator.return?.();
    }
  }
}

interface Converted {
  output: Buffer;
  /** Input bytes converted; the rest (an incomplete last character) waits for more. */
  consumed: number;
  /** Ends of the runs whose output length differs from their input length: input end, output end, input end, … */
  changes: number[];
}

const REPLACEMENT_CHARACTER = '\uFFFD';
/** The genuine encodings of U+FFFD, which must not be taken for a decoder's replacement. */
const GB18030_REPLACEMENT = Buffer.from([0x84, 0x31, 0xa4, 0x37]);
const UTF8_REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);
/** Decoded text holding ASCII or U+FFFD: a run iconv-lite could not decode whole (see convertRun). */
const SUSPECT = /[\x00-\x7f\uFFFD]/;

/** MySQL's latin1 is Windows-1252, with its five unassigned bytes kept as the C1 controls of the same number. */
let latin1Table: string[] | undefined;
function latin1Characters(): string[] {
  if (!latin1Table) {
    const high = Buffer.alloc(128).map((_, index) => 0x80 + index);
    latin1Table = [...iconv.decode(high, 'cp1252')].map((char, index) => (char === REPLACEMENT_CHARACTER ? String.fromCharCode(0x80 + index) : char));
  }
  return latin1Table;
}

type Kind = 'utf8' | 'gb18030' | 'gbk' | 'latin1';

/**
 * Converts one character set to UTF-8, a buffer at a time. `replacement` undefined means strict:
 * an invalid character is a SourceFormatError.
 */
class Converter {
  /** The character set being read; for `auto`, undefined until the first non-ASCII run decides. */
  private kind: Kind | undefined;
  /** For `auto`: where the first non-ASCII run was. */
  private chosenAt = 0;
  /** One GBK/GB18030 decoder, reused: iconv-lite's `decode` looks the codec up and makes a decoder on every call. */
  private dbcsDecoder: iconv.DecoderStream | undefined;

  constructor(
    private readonly characterSet: Exclude<CharacterSet, 'binary'>,
    private readonly replacement: string | undefined,
    private readonly path: string,
  ) {
    this.kind = characterSet === 'auto' ? undefined : characterSet === 'utf8mb4' ? 'utf8' : characterSet;
  }

  /** Converts `bytes` (at source offset `base`); with `final`, nothing is held back. */
  convert(bytes: Buffer, base: number, final: boolean): Converted {
    const end = bytes.length;
    let i = firstHighByte(bytes, 0);
    if (i === end) return { output: bytes, consumed: end, changes: [] };
    if (this.kind === undefined && !this.choose(bytes, i, base, final)) return { output: bytes.subarray(0, i), consumed: i, changes: [] };
    if (this.kind === 'utf8') {
      // The common case of a valid UTF-8 file: nothing changes, nothing is copied.
      const complete = final ? bytes : bytes.subarray(0, end - utf8IncompleteTail(bytes));
      if (isUtf8(complete)) return { output: complete, consumed: complete.length, changes: [] };
    }
    if (this.kind === 'gbk' || this.kind === 'gb18030') {
      const whole = this.convertValidDbcs(bytes, i, final);
      if (whole) return whole;
    }
    // Run by run (and character by character where one is invalid); the output is built as one
    // string and encoded once: a Buffer per run cost more than the decoding.
    let text = '';
    const changes: number[] = [];
    let outputLength = 0;
    let plainStart = 0;
    while (i < end) {
      const runEnd = this.runEnd(bytes, i, final);
      if (runEnd === i) break; // an incomplete character at the end: it waits for more bytes
      if (i > plainStart) {
        text += bytes.toString('latin1', plainStart, i);
        outputLength += i - plainStart;
      }
      const decoded = this.convertRun(bytes.subarray(i, runEnd), base + i);
      const length = Buffer.byteLength(decoded, 'utf8');
      text += decoded;
      outputLength += length;
      if (length !== runEnd - i) changes.push(runEnd, outputLength);
      plainStart = runEnd;
      i = firstHighByte(bytes, runEnd);
    }
    if (i > plainStart) text += bytes.toString('latin1', plainStart, i);
    return { output: Buffer.from(text, 'utf8'), consumed: i, changes };
  }

  /**
   * GBK/GB18030 text with no invalid character, in one decoder call: the UTF-8 length of each
   * character comes from a table, so the offset changes are known without decoding run by run
   * (about four times faster on short values). Undefined when a character is invalid or cut by the end
   * of the file: the caller then goes run by run.
   */
  private convertValidDbcs(bytes: Buffer, firstHigh: number, final: boolean): Converted | undefined {
    const fourByte = this.kind === 'gb18030';
    const pairs = pairUtf8Lengths(fourByte);
    const end = bytes.length;
    const changes: number[] = [];
    let outputLength = firstHigh;
    let i = firstHigh;
    let cut = false;
    while (i < end && !cut) {
      if (bytes[i] < 0x80) {
        i++;
        outputLength++;
        continue;
      }
      const runStart = i;
      const runOutputStart = outputLength;
      while (i < end && bytes[i] >= 0x80) {
        const length = dbcsCharacterLength(bytes, i, fourByte);
        let utf8Length = 0;
        if (length === 0) {
          if (final) return undefined;
          cut = true; // the rest waits for more bytes
          break;
        } else if (length === 2) {
          utf8Length = pairs[(bytes[i] << 8) | bytes[i + 1]];
        } else {
          // Four-byte GB18030 characters are rare: decoded one by one. A single byte ≥ 0x80 is GBK's € (0x80) or invalid.
          const decoded = this.decodeDbcs(bytes.subarray(i, i + length));
          if (decoded !== REPLACEMENT_CHARACTER) utf8Length = Buffer.byteLength(decoded, 'utf8');
        }
        if (utf8Length === 0) return undefined;
        outputLength += utf8Length;
        i += length;
      }
      if (outputLength - runOutputStart !== i - runStart) changes.push(i, outputLength);
    }
    const text = this.decodeDbcs(bytes.subarray(0, i));
    const output = Buffer.from(text, 'utf8');
    // The table and the decoder agree on valid text; if they ever did not, the run-by-run way is right.
    if (output.length !== outputLength || text.includes(REPLACEMENT_CHARACTER)) return undefined;
    return { output, consumed: i, changes };
  }

  /**
   * `auto`: UTF-8 if the first non-ASCII run is valid UTF-8, else GB18030. False when the buffer
   * ends inside the run's first character: the choice waits for more bytes.
   */
  private choose(bytes: Buffer, start: number, base: number, final: boolean): boolean {
    let end = start;
    while (end < bytes.length && bytes[end] >= 0x80) end++;
    let run = bytes.subarray(start, end);
    if (end === bytes.length && !final) {
      run = run.subarray(0, run.length - utf8IncompleteTail(run));
      if (run.length === 0) return false;
    }
    this.kind = isUtf8(run) ? 'utf8' : 'gb18030';
    this.chosenAt = base + start;
    return true;
  }

  /**
   * End of the run of whole characters from `start` (a byte ≥ 0x80) that all start with a byte
   * ≥ 0x80: the run stops before a character that starts with an ASCII byte. Returns `start` when
   * the buffer ends inside the run's first character and more bytes may come.
   */
  private runEnd(bytes: Buffer, start: number, final: boolean): number {
    const end = bytes.length;
    let i = start;
    if (this.kind === 'latin1' || this.kind === 'utf8') {
      // Every byte of a multi-byte UTF-8 character is ≥ 0x80, and a latin1 character is one byte.
      while (i < end && bytes[i] >= 0x80) i++;
      return i === end && !final && this.kind === 'utf8' ? i - utf8IncompleteTail(bytes.subarray(start, i)) : i;
    }
    const fourByte = this.kind === 'gb18030';
    while (i < end && bytes[i] >= 0x80) {
      const length = dbcsCharacterLength(bytes, i, fourByte);
      if (length > 0) i += length;
      else if (final) i++; // cut short by the end of the file: an invalid lead byte alone
      else return i;
    }
    return i;
  }

  /** The text of one run (at source offset `at`, for errors). */
  private convertRun(run: Buffer, at: number): string {
    switch (this.kind) {
      case 'latin1': {
        const table = latin1Characters();
        let text = '';
        for (let k = 0; k < run.length; k++) text += table[run[k] - 0x80];
        return text;
      }
      case 'utf8':
        if (isUtf8(run)) return run.toString('utf8');
        if (this.characterSet === 'auto') {
          throw new SourceFormatError(
            this.path,
            at,
            `these bytes are not UTF-8, but the file's first non-ASCII text (at byte offset ${this.chosenAt}) was, so data-character-set = "auto" reads the file as UTF-8; set [mydumper] data-character-set to the file's character set`,
          );
        }
        return this.replaceInvalidUtf8(run, at);
      default: {
        const text = this.decodeDbcs(run);
        // ASCII or U+FFFD in the text: a character did not decode whole (iconv-lite replaces an
        // unmapped lead byte and reads the byte after it again on its own, which may be ASCII).
        return SUSPECT.test(text) ? this.decodeByCharacter(run, at) : text;
      }
    }
  }

  /** GBK/GB18030 bytes of whole characters (or lone invalid bytes) as text; the decoder is left empty. */
  private decodeDbcs(bytes: Buffer): string {
    this.dbcsDecoder ??= iconv.getDecoder(this.kind === 'gb18030' ? 'gb18030' : 'gbk');
    return this.dbcsDecoder.write(bytes) + (this.dbcsDecoder.end() ?? '');
  }

  /** A GBK/GB18030 run one character at a time: each that does not decode to one character is replaced. */
  private decodeByCharacter(run: Buffer, at: number): string {
    const fourByte = this.kind === 'gb18030';
    let text = '';
    for (let k = 0; k < run.length; ) {
      const length = dbcsCharacterLength(run, k, fourByte) || 1;
      const bytes = run.subarray(k, k + length);
      const decoded = this.decodeDbcs(bytes);
      const single = decoded.length > 0 && [...decoded].length === 1 && decoded.charCodeAt(0) >= 0x80;
      if (single && (decoded !== REPLACEMENT_CHARACTER || (fourByte && bytes.equals(GB18030_REPLACEMENT)))) text += decoded;
      else text += this.invalid(at + k);
      k += length;
    }
    return text;
  }

  /** A run that is not valid UTF-8: its invalid sequences replaced, genuine U+FFFD characters kept. */
  private replaceInvalidUtf8(run: Buffer, at: number): string {
    const parts: string[] = [];
    let from = 0;
    // U+FFFD's own encoding delimits itself: the pieces between its occurrences decode apart as they would together.
    for (;;) {
      const genuine = run.indexOf(UTF8_REPLACEMENT, from);
      const piece = run.subarray(from, genuine < 0 ? run.length : genuine);
      const pieceAt = at + from;
      if (piece.length > 0) {
        const decoded = piece.toString('utf8');
        parts.push(decoded.includes(REPLACEMENT_CHARACTER) ? decoded.replace(/\uFFFD/g, () => this.invalid(pieceAt)) : decoded);
      }
      if (genuine < 0) break;
      parts.push(REPLACEMENT_CHARACTER);
      from = genuine + UTF8_REPLACEMENT.length;
    }
    return parts.join('');
  }

  private invalid(offset: number): string {
    if (this.replacement !== undefined) return this.replacement;
    throw new SourceFormatError(this.path, offset, `these bytes are not valid ${this.kind === 'utf8' ? 'UTF-8' : this.kind} text`);
  }
}

const pairLengths: { gbk?: Uint8Array; gb18030?: Uint8Array } = {};

/**
 * The UTF-8 length of every two-byte GBK/GB18030 character, indexed by lead << 8 | trail (0 for a
 * pair that does not decode to one character). Made once per process, from iconv-lite itself.
 */
function pairUtf8Lengths(fourByte: boolean): Uint8Array {
  const name = fourByte ? 'gb18030' : 'gbk';
  let lengths = pairLengths[name];
  if (!lengths) {
    lengths = new Uint8Array(65536);
    const decoder = iconv.getDecoder(name);
    const pair = Buffer.alloc(2);
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        pair[0] = lead;
        pair[1] = trail;
        const text = decoder.write(pair) + (decoder.end() ?? '');
        const codePoint = text.codePointAt(0) ?? 0;
        if (text.length === (codePoint > 0xffff ? 2 : 1) && codePoint >= 0x80 && text !== REPLACEMENT_CHARACTER) lengths[(lead << 8) | trail] = Buffer.byteLength(text, 'utf8');
      }
    }
    pairLengths[name] = lengths;
  }
  return lengths;
}

/** Index of the first byte ≥ 0x80 at or after `from` (the length if none). */
function firstHighByte(bytes: Buffer, from: number): number {
  const end = bytes.length;
  let i = from;
  while (i < end && bytes[i] < 0x80) i++;
  return i;
}

/**
 * Length of the GBK/GB18030 character at `i` (a byte ≥ 0x80): 2 for a lead byte (0x81–0xFE) and a
 * trail byte (0x40–0x7E, 0x80–0xFE); with GB18030 also 4 for lead, 0x30–0x39, lead, 0x30–0x39;
 * 1 for anything else (an invalid byte, replaced alone, so the next byte is read afresh);
 * 0 when the buffer ends before the character can be told.
 */
function dbcsCharacterLength(bytes: Buffer, i: number, fourByte: boolean): number {
  const lead = bytes[i];
  if (lead < 0x81 || lead > 0xfe) return 1;
  if (i + 1 >= bytes.length) return 0;
  const second = bytes[i + 1];
  if ((second >= 0x40 && second <= 0x7e) || (second >= 0x80 && second <= 0xfe)) return 2;
  if (!fourByte || second < 0x30 || second > 0x39) return 1;
  if (i + 3 >= bytes.length) return 0;
  const third = bytes[i + 2];
  const fourth = bytes[i + 3];
  return third >= 0x81 && third <= 0xfe && fourth >= 0x30 && fourth <= 0x39 ? 4 : 1;
}

/** How many bytes at the end of `bytes` are the start of a UTF-8 character cut short (0–3). */
function utf8IncompleteTail(bytes: Buffer): number {
  const end = bytes.length;
  for (let k = 1; k <= 3 && k <= end; k++) {
    const c = bytes[end - k];
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return length > k ? k : 0;
    }
  }
  return 0;
}
