import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { loadConfig } from '../../client/config/load';
import { decodeSchemaFile, decodeSource, type CharacterSet, type DecodedSource } from '../../activities/source/charset';
import { readCsvRows, type CsvOptions } from '../../activities/source/csv-reader';
import { SourceFormatError, type SourceRow } from '../../activities/source/row';
import { readSqlRows } from '../../activities/source/sql-reader';

const PATH = 'db.t.000000001.sql';

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

interface Decoded {
  text: string;
  source: DecodedSource;
}

async function decode(data: Buffer, characterSet: CharacterSet, size: number, options: { replacement?: string; startOffset?: number; endOffset?: number } = {}): Promise<Decoded> {
  const source = decodeSource(chunked(data, size), {
    characterSet,
    replacement: options.replacement ?? '\uFFFD',
    path: PATH,
    startOffset: options.startOffset ?? 0,
    endOffset: options.endOffset,
  });
  const parts: Buffer[] = [];
  for await (const part of source.bytes) parts.push(part);
  return { text: Buffer.concat(parts).toString('utf8'), source };
}

/** Reads SQL rows from a converted stream, with their ends mapped back to source offsets, as importChunk does. */
async function sqlRows(data: Buffer, characterSet: CharacterSet, size: number): Promise<SourceRow[]> {
  const source = decodeSource(chunked(data, size), { characterSet, replacement: '\uFFFD', path: PATH, startOffset: 0 });
  const rows: SourceRow[] = [];
  try {
    for await (const group of readSqlRows(source.bytes, { path: PATH })) {
      for (const row of group) rows.push({ ...row, endOffset: source.sourceOffset(row.endOffset) });
    }
  } catch (error) {
    throw source.sourceError(error);
  }
  return rows;
}

/** Where each `)` that ends a row is in the source bytes, plus one: the row ends a reader must report. */
function rowEndsIn(source: Buffer, count: number): number[] {
  const ends: number[] = [];
  for (let i = source.indexOf('),', 0); i >= 0 && ends.length < count; i = source.indexOf('),', i + 1)) ends.push(i + 1);
  const last = source.lastIndexOf(');');
  if (ends.length < count) ends.push(last + 1);
  return ends;
}

const texts = (rows: SourceRow[]) => rows.map((row) => row.values.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value)));

test('gbk: a second byte 0x5C (backslash) before a quote is part of its character, and row ends stay source offsets', async () => {
  // 乗 is 81 5C in GBK: read byte by byte, `乗'` would look like an escaped quote.
  const sql = "INSERT INTO `t` (`名字`, `n`) VALUES ('乗',1),('中文\\'s 乗\\n',2),('',3),('表',4);\n";
  const gbk = iconv.encode(sql, 'gbk');
  assert.ok(gbk.includes(Buffer.from([0x81, 0x5c, 0x27])), 'the file holds 81 5C 27');
  for (const size of [1, 2, 3, 5, 64, gbk.length]) {
    const rows = await sqlRows(gbk, 'gbk', size);
    assert.deepEqual(texts(rows), [
      ['乗', '1'],
      ["中文's 乗\n", '2'],
      ['', '3'],
      ['表', '4'],
    ], `read ${size} bytes at a time`);
    assert.deepEqual(rows[0].columns, ['名字', 'n']);
    assert.deepEqual(rows.map((row) => row.endOffset), rowEndsIn(gbk, 4), `row ends in source bytes, ${size} at a time`);
  }
});

test('gb18030: four-byte characters, and a genuine U+FFFD is not an invalid byte', async () => {
  const sql = "INSERT INTO t VALUES ('𠀀€ﾟ',1),('\uFFFD',2);";
  const gb = iconv.encode(sql, 'gb18030');
  for (const size of [1, 3, 1000]) {
    const rows = await sqlRows(gb, 'gb18030', size);
    assert.deepEqual(texts(rows), [['𠀀€ﾟ', '1'], ['\uFFFD', '2']]);
    assert.deepEqual(rows.map((row) => row.endOffset), rowEndsIn(gb, 2));
  }
  const { text } = await decode(gb, 'gb18030', 2, { replacement: '?' });
  assert.equal(text, sql, 'U+FFFD written in GB18030 is a character, not a replacement');
});

test('invalid bytes become data-invalid-char-replace, whole, and never let a quote or backslash out', async () => {
  // A lone GBK lead byte before a quote; 0xFF; a lead byte at the very end; a GB18030 four-byte form cut short.
  const bytes = Buffer.concat([Buffer.from("('a"), Buffer.from([0x81]), Buffer.from("'),('"), Buffer.from([0xff]), Buffer.from("b'),"), Buffer.from([0x81])]);
  for (const size of [1, 4, 100]) {
    assert.equal((await decode(bytes, 'gbk', size, { replacement: '?' })).text, "('a?'),('?b'),?");
  }
  const cut = Buffer.concat([Buffer.from("'"), Buffer.from([0x81, 0x30, 0x81]), Buffer.from("'")]);
  for (const size of [1, 2, 100]) {
    assert.equal((await decode(cut, 'gb18030', size, { replacement: '?' })).text, "'?0?'");
  }
  const utf8 = Buffer.concat([Buffer.from('ok '), Buffer.from([0xe4, 0xb8]), Buffer.from("' "), Buffer.from('\uFFFD'), Buffer.from([0xc0])]);
  for (const size of [1, 2, 100]) {
    assert.equal((await decode(utf8, 'utf8mb4', size, { replacement: '#' })).text, "ok #' \uFFFD#");
  }
  assert.equal((await decode(utf8, 'utf8', 7)).text, "ok \uFFFD' \uFFFD\uFFFD", 'the default replacement is U+FFFD');
});

test("latin1 is MySQL's: Windows-1252, its five unassigned bytes kept as C1 controls", async () => {
  const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x80, 0x9f, 0x81, 0x0a, 0xff]);
  const { text, source } = await decode(bytes, 'latin1', 3);
  assert.equal(text, 'café,€Ÿ\u0081\nÿ');
  assert.equal(source.sourceOffset(Buffer.byteLength('café,€Ÿ\u0081\n')), 9, 'the offset after the line maps back to the source');
});

test('CSV in GBK with backslash escapes: fields and header decode, offsets stay the source', async () => {
  const csvOptions: CsvOptions = { separator: ',', delimiter: '"', terminator: '', header: true, notNull: false, null: ['\\N'], backslashEscape: true, trimLastSeparator: false };
  const csv = iconv.encode('编号,名字\n1,"乗"\n2,乗\\,乗\n3,\\N\n', 'gbk');
  for (const size of [1, 2, 7, 1000]) {
    const source = decodeSource(chunked(csv, size), { characterSet: 'gbk', replacement: '\uFFFD', path: PATH, startOffset: 0 });
    const rows: SourceRow[] = [];
    for await (const group of readCsvRows(source.bytes, { path: PATH, csv: csvOptions, startOffset: 0 })) {
      for (const row of group) rows.push({ ...row, endOffset: source.sourceOffset(row.endOffset) });
    }
    assert.deepEqual(texts(rows), [['1', '乗'], ['2', '乗,乗'], ['3', null]]);
    assert.deepEqual(rows[0].columns, ['编号', '名字']);
    const lineEnds = [...csv.entries()].filter(([, byte]) => byte === 0x0a).map(([index]) => index + 1).slice(1);
    assert.deepEqual(rows.map((row) => row.endOffset), lineEnds);
  }
});

test('a chunk that starts inside the file and stops at its planned end', async () => {
  const csv = iconv.encode('1,中\n2,文\n3,字\n', 'gbk');
  const second = csv.indexOf('2');
  const third = csv.indexOf('3');
  const { text, source } = await decode(csv.subarray(second), 'gbk', 2, { startOffset: second, endOffset: third });
  assert.equal(text, '2,文\n');
  assert.equal(source.readerEndOffset, undefined, 'the converted stream itself ends at the planned end');
  assert.equal(source.sourceOffset(second + Buffer.byteLength('2,文\n')), third);
  const binary = decodeSource(chunked(csv, 4), { characterSet: 'binary', replacement: '', path: PATH, startOffset: 0, endOffset: third });
  assert.equal(binary.readerEndOffset, third, 'binary bytes are the source: the reader stops at the planned end');
});

test('auto: UTF-8 or GB18030 by the first non-ASCII text; UTF-8 then other bytes is an error at its source offset', async () => {
  const text = 'id,名字\n1,中文\n';
  assert.equal((await decode(Buffer.from(text), 'auto', 2)).text, text);
  assert.equal((await decode(iconv.encode(text, 'gb18030'), 'auto', 2)).text, text);
  const mixed = Buffer.concat([Buffer.from(text), Buffer.from('2,'), iconv.encode('中文', 'gbk'), Buffer.from('\n')]);
  await assert.rejects(decode(mixed, 'auto', 5), (error: SourceFormatError) => {
    assert.ok(error instanceof SourceFormatError);
    assert.equal(error.offset, Buffer.byteLength(text) + 2);
    assert.match(error.message, /data-character-set/);
    return true;
  });
});

test("a reader's error offset is mapped back to the source", async () => {
  const sql = iconv.encode("INSERT INTO t VALUES ('中文中文',1),('乗',2) junk;", 'gbk');
  await assert.rejects(sqlRows(sql, 'gbk', 3), (error: SourceFormatError) => {
    assert.ok(error instanceof SourceFormatError);
    assert.equal(error.offset, sql.indexOf('junk'));
    assert.match(error.message, new RegExp(`byte offset ${sql.indexOf('junk')}:`));
    return true;
  });
});

test('binary passes the bytes through untouched', async () => {
  const bytes = Buffer.from([0x81, 0x5c, 0x27, 0xff, 0x00]);
  const { source } = await decode(bytes, 'binary', 2);
  const parts: Buffer[] = [];
  for await (const part of decodeSource(chunked(bytes, 2), { characterSet: 'binary', replacement: '', path: PATH, startOffset: 0 }).bytes) parts.push(part);
  assert.ok(Buffer.concat(parts).equals(bytes));
  assert.equal(source.sourceOffset(3), 3);
});

test('schema files: character-set auto is UTF-8, else GB18030, else an error; explicit sets are strict', () => {
  const create = 'CREATE TABLE `名字` (`列` int COMMENT "乗");';
  assert.equal(decodeSchemaFile(Buffer.from(create), 'auto', 's.sql').toString(), create);
  assert.equal(decodeSchemaFile(iconv.encode(create, 'gbk'), 'auto', 's.sql').toString(), create);
  assert.equal(decodeSchemaFile(iconv.encode(create, 'gbk'), 'gbk', 's.sql').toString(), create);
  assert.equal(decodeSchemaFile(Buffer.from([0x41, 0xe9]), 'latin1', 's.sql').toString(), 'Aé');
  const latin1 = Buffer.from('CREATE TABLE caf\xe9 (a int);', 'latin1');
  assert.throws(() => decodeSchemaFile(latin1, 'auto', 's.sql'), /s\.sql: byte offset 16: the schema file is neither UTF-8 nor GB18030/);
  assert.throws(() => decodeSchemaFile(latin1, 'utf8mb4', 's.sql'), /s\.sql: byte offset 16: these bytes are not valid UTF-8/);
  assert.ok(decodeSchemaFile(latin1, 'binary', 's.sql').equals(latin1));
});

test('random text in each character set, valid and not, read in random pieces: the text, and every ASCII position mapped back', async () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const ascii = ["'", '\\', ',', '\n', 'a', '0', '(', ')', '@', '`', '|'];
  const dbcs = ['乗', '俓', '僜', '中', '文', '表', 'é', 'Ω', 'Я', '、'];
  /** Per character set: its valid characters, how it writes one, and invalid byte sequences (each replaced by one '?'). */
  const sets: Array<{ characterSet: CharacterSet; valid: string[]; encode: (text: string) => Buffer; invalid: Buffer[] }> = [
    { characterSet: 'gbk', valid: [...dbcs, '€'], encode: (text) => iconv.encode(text, 'gbk'), invalid: [Buffer.from([0xff])] },
    { characterSet: 'gb18030', valid: [...dbcs, '€', '𠀀', 'ﾟ', '\uFFFD', '😀'], encode: (text) => iconv.encode(text, 'gb18030'), invalid: [Buffer.from([0xff])] },
    { characterSet: 'utf8mb4', valid: [...dbcs, '😀', '\uFFFD'], encode: (text) => Buffer.from(text), invalid: [Buffer.from([0xff]), Buffer.from([0xc0])] },
    { characterSet: 'latin1', valid: ['é', '€', 'ÿ', 'Ÿ', '×'], encode: (text) => iconv.encode(text, 'cp1252'), invalid: [] },
  ];
  for (const { characterSet, valid, encode, invalid } of sets) {
    for (let round = 0; round < 40; round++) {
      const parts: Buffer[] = [];
      let expected = '';
      /** Each ASCII byte: its source offset and its offset in the converted text. */
      const asciiAt: Array<[number, number]> = [];
      let sourceLength = 0;
      const add = (bytes: Buffer, text: string) => {
        parts.push(bytes);
        expected += text;
        sourceLength += bytes.length;
      };
      for (let k = 0; k < 200; k++) {
        const choice = random();
        if (choice < 0.5) {
          asciiAt.push([sourceLength, Buffer.byteLength(expected)]);
          const text = pick(ascii);
          add(Buffer.from(text), text);
        } else if (choice < 0.9 || invalid.length === 0) {
          const text = pick(valid);
          add(encode(text), text);
        } else if (choice < 0.95) {
          add(pick(invalid), '?');
        } else {
          // A lead byte, or a character cut short, before a byte that cannot follow it: replaced, the byte after it stays ASCII.
          add(Buffer.from(characterSet === 'utf8mb4' ? [0xe4, 0xb8] : [0x81]), '?');
          asciiAt.push([sourceLength, Buffer.byteLength(expected)]);
          const after = pick(["'", ',', '\n', '(', ')']);
          add(Buffer.from(after), after);
        }
      }
      asciiAt.push([sourceLength, Buffer.byteLength(expected)]);
      add(Buffer.from(';'), ';');
      const size = 1 + Math.floor(random() * 40);
      const decoded = await decode(Buffer.concat(parts), characterSet, size, { replacement: '?' });
      assert.equal(decoded.text, expected, `${characterSet}, round ${round}, ${size}-byte pieces`);
      for (const [sourceOffset, convertedOffset] of asciiAt) {
        assert.equal(decoded.source.sourceOffset(convertedOffset), sourceOffset, `${characterSet}, round ${round}, ${size}-byte pieces: ASCII at ${sourceOffset}`);
      }
    }
  }
});

test('data-invalid-char-replace may not hold a character the readers would take for structure', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-replace-'));
  try {
    const configWith = (keys: string) => {
      const file = path.join(dir, 'tidb-lightning.toml');
      fs.writeFileSync(file, `[mydumper]\ndata-source-dir = "/tmp"\n${keys}\n`);
      return file;
    };
    assert.throws(() => loadConfig(configWith('data-character-set = "gbk"\ndata-invalid-char-replace = "?,"')), /data-invalid-char-replace: must not contain ","/);
    assert.throws(() => loadConfig(configWith('data-character-set = "latin1"\ndata-invalid-char-replace = "\\\\"')), /must not contain "\\\\"/);
    assert.throws(() => loadConfig(configWith('data-character-set = "gbk"\ndata-invalid-char-replace = "|"\n[mydumper.csv]\nseparator = "|"')), /must not contain "\|"/);
    assert.equal(loadConfig(configWith('data-character-set = "gbk"\ndata-invalid-char-replace = "?"')).mydumper['data-invalid-char-replace'], '?');
    assert.equal(loadConfig(configWith('data-invalid-char-replace = ","')).mydumper['data-invalid-char-replace'], ',', 'binary converts nothing: no replacement is made');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
