import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCsvHeader, readCsvRows, type CsvOptions, type CsvReadOptions } from '../../activities/source/csv-reader';
import { SourceFormatError, type SourceRow, type SourceValue } from '../../activities/source/row';

const PATH = 'db.t.000000001.csv';

const DEFAULTS: CsvOptions = {
  separator: ',',
  delimiter: '"',
  terminator: '',
  header: false,
  notNull: false,
  null: ['\\N'],
  backslashEscape: true,
  trimLastSeparator: false,
};

interface Read {
  csv?: Partial<CsvOptions>;
  startOffset?: number;
  endOffset?: number;
  columns?: readonly string[];
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function options(read: Read): CsvReadOptions {
  return {
    path: PATH,
    csv: { ...DEFAULTS, ...read.csv },
    startOffset: read.startOffset ?? 0,
    endOffset: read.endOffset,
    columns: read.columns,
  };
}

async function collect(data: Buffer, size: number, read: Read): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const group of readCsvRows(chunked(data, size), options(read))) {
    assert.ok(group.length > 0, 'groups are never empty');
    rows.push(...group);
  }
  return rows;
}

function toBuffer(text: string | Buffer): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

/** Reads `text` whole and in 1-, 2- and 3-byte buffers; asserts the readings agree; returns the rows. */
async function read(text: string | Buffer, how: Read = {}): Promise<SourceRow[]> {
  const data = toBuffer(text);
  const whole = await collect(data, Math.max(1, data.length), how);
  for (const size of [1, 2, 3]) assert.deepStrictEqual(await collect(data, size, how), whole, `fed in ${size}-byte buffers`);
  return whole;
}

async function values(text: string | Buffer, csv: Partial<CsvOptions> = {}): Promise<SourceValue[][]> {
  return (await read(text, { csv })).map((row) => row.values);
}

async function assertError(text: string | Buffer, how: Read, offset: number, reason: string): Promise<void> {
  const data = toBuffer(text);
  for (const size of [Math.max(1, data.length), 1]) {
    await assert.rejects(collect(data, size, how), (e: unknown) => {
      assert.ok(e instanceof SourceFormatError, `expected a SourceFormatError, got ${String(e)}`);
      assert.equal(e.reason, reason);
      assert.equal(e.offset, offset);
      assert.equal(e.path, PATH);
      return true;
    });
  }
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const bs = (...texts: string[]): Buffer[] => texts.map(b);

test('header, quoted fields, doubled quotes, end offsets', async () => {
  const rows = await read('id,name\n1,"a,b"\n2,"x""y"\n', { csv: { header: true } });
  assert.deepStrictEqual(rows, [
    { values: bs('1', 'a,b'), columns: ['id', 'name'], endOffset: 16 },
    { values: bs('2', 'x"y'), columns: ['id', 'name'], endOffset: 25 },
  ]);
  assert.equal(rows[0].columns, rows[1].columns, 'one array object for all rows');
});

test('without a header, rows get options.columns (or undefined)', async () => {
  assert.deepStrictEqual(await read('1,2\n'), [{ values: bs('1', '2'), columns: undefined, endOffset: 4 }]);
  const columns = ['a', 'b'];
  const rows = await read('1,2\n3,4\n', { columns });
  assert.equal(rows[0].columns, columns);
  assert.equal(rows[1].columns, columns);
});

test('header: true only applies at startOffset 0; later chunks get options.columns and absolute offsets', async () => {
  const rows = await read('5,6\n7,8', { csv: { header: true }, startOffset: 1000, columns: ['a', 'b'] });
  assert.deepStrictEqual(rows, [
    { values: bs('5', '6'), columns: ['a', 'b'], endOffset: 1004 },
    { values: bs('7', '8'), columns: ['a', 'b'], endOffset: 1007 },
  ]);
});

test("terminator '' accepts \\n, \\r and \\r\\n (one line break)", async () => {
  const rows = await read('1\n2\r3\r\n4');
  assert.deepStrictEqual(
    rows.map((r) => [r.values, r.endOffset]),
    [
      [bs('1'), 2],
      [bs('2'), 4],
      [bs('3'), 7],
      [bs('4'), 8],
    ],
  );
});

test('an explicit terminator: other line breaks are data; multi-character terminators', async () => {
  assert.deepStrictEqual(await values('a\nb,c\r\nd\re\r\n', { terminator: '\r\n' }), [bs('a\nb', 'c'), bs('d\re')]);
  const rows = await read('a,b~~\nc\n,d~~\n', { csv: { terminator: '~~\n' } });
  assert.deepStrictEqual(
    rows.map((r) => [r.values, r.endOffset]),
    [
      [bs('a', 'b'), 6],
      [bs('c\n', 'd'), 13],
    ],
  );
  // A lone first byte of the terminator is data.
  assert.deepStrictEqual(await values('a~b~~\n', { terminator: '~~\n' }), [bs('a~b')]);
});

test('separators: multi-character, tab', async () => {
  assert.deepStrictEqual(await values('a||b|c||\n||x\n', { separator: '||' }), [bs('a', 'b|c', ''), bs('', 'x')]);
  assert.deepStrictEqual(await values('a\tb c\t"d\te"\n', { separator: '\t' }), [bs('a', 'b c', 'd\te')]);
});

test('delimiters: single quote, none, multi-character', async () => {
  assert.deepStrictEqual(await values("'a,b','it''s',\"c\"\n", { delimiter: "'" }), [bs('a,b', "it's", '"c"')]);
  assert.deepStrictEqual(await values('"a",b""\n', { delimiter: '' }), [bs('"a"', 'b""')]);
  assert.deepStrictEqual(await values('~~a,b~~,~~x~~~~y~~,c~d\n', { delimiter: '~~' }), [bs('a,b', 'x~~y', 'c~d')]);
});

test('quoted fields may hold separators, line breaks and doubled quotes', async () => {
  const rows = await read('"a,b\nc\r\nd","""",""\n"x"\n');
  assert.deepStrictEqual(
    rows.map((r) => [r.values, r.endOffset]),
    [
      [bs('a,b\nc\r\nd', '"', ''), 19],
      [bs('x'), 23],
    ],
  );
});

test('NULL: unquoted \\N and quoted "\\N" (as Lightning) are NULL; \\\\N and NULL are text', async () => {
  assert.deepStrictEqual(await values('\\N,"\\N",\\\\N,NULL,,""\n'), [[null, null, b('\\N'), b('NULL'), b(''), b('')]]);
});

test('NULL: custom null texts match unquoted fields, and quoted ones by their unescaped text (as Lightning)', async () => {
  assert.deepStrictEqual(await values('NULL,"NULL",,"",\\N,null,"NU\\LL","NULLx"\n', { null: ['NULL', ''] }), [
    [null, null, null, null, b('N'), b('null'), null, b('NULLx')],
  ]);
  // An escaped escape before N spells the text \N, quoted or not, even when \N means NULL.
  assert.deepStrictEqual(await values('"\\\\N",\\\\N,"\\N"\n', { null: ['\\N', 'NULL'] }), [[b('\\N'), b('\\N'), null]]);
  assert.deepStrictEqual(await values('"NULL",""\n', { null: ['NULL', ''], notNull: true }), [[b('NULL'), b('')]]);
});

test('NULL: notNull makes every field a value', async () => {
  assert.deepStrictEqual(await values('\\N,"\\N",NULL,\n', { notNull: true, null: ['\\N', 'NULL', ''] }), [[b('N'), b('N'), b('NULL'), b('')]]);
});

test('NULL: without escapes, the raw text \\N is still NULL, quoted or not (its text is a null text)', async () => {
  assert.deepStrictEqual(await values('\\N,"\\N"\n', { backslashEscape: false }), [[null, null]]);
});

test('backslash escapes inside and outside quotes', async () => {
  const text = 'a\\,b,"c\\"d",\\0\\b\\n\\r\\t\\Z\\\\\\q,"x\\\ny",p\\\nq\n';
  assert.deepStrictEqual(await values(text), [[b('a,b'), b('c"d'), Buffer.from([0x00, 0x08, 0x0a, 0x0d, 0x09, 0x1a, 0x5c, 0x71]), b('x\ny'), b('p\nq')]]);
});

test('backslashEscape false: a backslash is an ordinary byte', async () => {
  assert.deepStrictEqual(await values('a\\,b,"c\\""d",\\n\n', { backslashEscape: false }), [[b('a\\'), b('b'), b('c\\"d'), b('\\n')]]);
});

test('escapedBy replaces the backslash', async () => {
  const expected = [[b('a,b'), b('c\\d'), b('\n'), b('"'), null]];
  assert.deepStrictEqual(await values('a^,b,c\\d,^n,"^"",^N\n', { escapedBy: '^', null: ['^N'] }), expected);
  assert.deepStrictEqual(await values('a^,b,c\\d,^n,"^"",^N\n', { escapedBy: '^', null: ['^N'], backslashEscape: false }), expected);
  // escapedBy '\' with backslashEscape off means no escapes (as Lightning).
  assert.deepStrictEqual(await values('a\\n\n', { escapedBy: '\\', backslashEscape: false }), [[b('a\\n')]]);
});

test('trimLastSeparator drops one separator at the end of each line', async () => {
  assert.deepStrictEqual(await values('a,b,\nc,d,\ne,,\n"f",\n', { trimLastSeparator: true }), [bs('a', 'b'), bs('c', 'd'), bs('e', ''), bs('f')]);
  assert.deepStrictEqual(await values('a,b,\n', { trimLastSeparator: false }), [bs('a', 'b', '')]);
  assert.deepStrictEqual(await values('a,""\n', { trimLastSeparator: true }), [bs('a', '')]);
});

test('empty lines are not rows; a last line without terminator is; a line of spaces is', async () => {
  const rows = await read('\n\na,b\n\n\r\nc,d\n\n');
  assert.deepStrictEqual(
    rows.map((r) => [r.values, r.endOffset]),
    [
      [bs('a', 'b'), 6],
      [bs('c', 'd'), 13],
    ],
  );
  assert.deepStrictEqual(
    (await read('a\nb')).map((r) => [r.values, r.endOffset]),
    [
      [bs('a'), 2],
      [bs('b'), 3],
    ],
  );
  assert.deepStrictEqual(await values(' \n'), [bs(' ')]);
  assert.deepStrictEqual(await values(''), []);
  assert.deepStrictEqual(await values('\n\r\n'), []);
  assert.deepStrictEqual(await values(',\n'), [bs('', '')]);
});

test('endOffset: exactly the rows starting before it, then reading stops', async () => {
  const text = 'r1\nr2\nr3\nr4\n';
  const ends = async (how: Read): Promise<number[]> => (await read(text.slice((how.startOffset ?? 0)), how)).map((r) => r.endOffset);
  assert.deepStrictEqual(await ends({ endOffset: 6 }), [3, 6]);
  assert.deepStrictEqual(await ends({ endOffset: 7 }), [3, 6, 9]);
  assert.deepStrictEqual(await ends({ endOffset: 0 }), []);
  assert.deepStrictEqual(await ends({ startOffset: 6, endOffset: 12 }), [9, 12]);
  assert.deepStrictEqual(await ends({ startOffset: 6, endOffset: 100 }), [9, 12]);
  // A row that starts before endOffset is read to its end, even far past it.
  const long = await read('1,"' + 'x'.repeat(1000) + '"\n2\n', { endOffset: 1 });
  assert.deepStrictEqual(
    long.map((r) => r.endOffset),
    [1005],
  );
  // With a header: the header is not a row; offsets count it.
  assert.deepStrictEqual(
    (await read('h\nr1\nr2\n', { csv: { header: true }, endOffset: 5 })).map((r) => [r.values, r.columns]),
    [[bs('r1'), ['h']]],
  );

  let pulled = 0;
  async function* input(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 1000; i++) {
      pulled++;
      yield b(`row${i}\n`);
    }
  }
  let count = 0;
  for await (const group of readCsvRows(input(), options({ endOffset: 12 }))) count += group.length;
  assert.equal(count, 3);
  assert.ok(pulled <= 4, `pulled ${pulled} buffers`);
});

test('rows are yielded as the input arrives', async () => {
  let pulled = 0;
  async function* input(): AsyncGenerator<Buffer> {
    pulled++;
    yield b('1\n2\n3');
    pulled++;
    yield b('4\n');
  }
  const it = readCsvRows(input(), options({}))[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(pulled, 1);
  assert.deepStrictEqual(
    first.value?.map((r: SourceRow) => r.values),
    [bs('1'), bs('2')],
  );
  const second = await it.next();
  assert.deepStrictEqual(
    second.value?.map((r: SourceRow) => r.values),
    [bs('34')],
  );
});

test('a field longer than the input buffers', async () => {
  const long = 'y'.repeat(200_000);
  const data = b(`1,"${long}\\"",${long}\n2\n`);
  for (const size of [65536, 999]) {
    const rows = await collect(data, size, {});
    assert.deepStrictEqual(
      rows.map((r) => r.values),
      [bs('1', long + '"', long), bs('2')],
    );
  }
});

test('binary bytes are kept byte-exact', async () => {
  const all: number[] = [];
  for (let c = 0; c < 256; c++) if (c !== 0x22 && c !== 0x5c) all.push(c);
  const body = Buffer.from(all);
  const data = Buffer.concat([b('"'), body, b('",'), Buffer.from([0xff, 0x80, 0xfe]), b('\n')]);
  assert.deepStrictEqual(await values(data), [[body, Buffer.from([0xff, 0x80, 0xfe])]]);
});

test('UTF-8 (CJK, emoji) in values and header names survives 1-byte buffers', async () => {
  const rows = await read('名前,"絵文字"\n東京タワー,"🗼👨‍👩‍👧"\n', { csv: { header: true } });
  assert.deepStrictEqual(rows[0].columns, ['名前', '絵文字']);
  assert.deepStrictEqual(
    rows[0].values.map((v) => (v as Buffer).toString('utf8')),
    ['東京タワー', '🗼👨‍👩‍👧'],
  );
  assert.deepStrictEqual(await values('a，b;c\n', { separator: '，' }), [bs('a', 'b;c')]);
});

test('a UTF-8 byte order mark is skipped at offset 0 only', async () => {
  const rows = await read('\ufeffid,v\n1,2\n', { csv: { header: true } });
  assert.deepStrictEqual(rows[0].columns, ['id', 'v']);
  assert.deepStrictEqual(rows[0].endOffset, 12);
  assert.deepStrictEqual(
    (await read('\ufeffx\n', { startOffset: 5 })).map((r) => r.values),
    [[b('\ufeffx')]],
  );
});

test('readCsvHeader: column names and the offset just past the header', async () => {
  const header = async (text: string, csv: Partial<CsvOptions> = {}): Promise<{ columns: string[]; endOffset: number }> => {
    const data = b(text);
    const whole = await readCsvHeader(chunked(data, Math.max(1, data.length)), { path: PATH, csv: { ...DEFAULTS, header: true, ...csv } });
    const bytes = await readCsvHeader(chunked(data, 1), { path: PATH, csv: { ...DEFAULTS, header: true, ...csv } });
    assert.deepStrictEqual(bytes, whole);
    return whole;
  };
  assert.deepStrictEqual(await header('id,"na,me",`x`\n1,2,3\n'), { columns: ['id', 'na,me', '`x`'], endOffset: 15 });
  assert.deepStrictEqual(await header('\n\na,b\r\n1,2\n'), { columns: ['a', 'b'], endOffset: 7 });
  assert.deepStrictEqual(await header('only'), { columns: ['only'], endOffset: 4 });
  assert.deepStrictEqual(await header(''), { columns: [], endOffset: 0 });
  assert.deepStrictEqual(await header('\n\n'), { columns: [], endOffset: 2 });
  assert.deepStrictEqual(await header('a\\tb|\\N\n', { separator: '|' }), { columns: ['a\tb', 'N'], endOffset: 8 });

  // It stops reading after the header.
  let pulled = 0;
  async function* input(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 100; i++) {
      pulled++;
      yield b(i === 0 ? 'h1,h2\n' : `${i},${i}\n`);
    }
  }
  assert.deepStrictEqual(await readCsvHeader(input(), { path: PATH, csv: { ...DEFAULTS, header: true } }), { columns: ['h1', 'h2'], endOffset: 6 });
  assert.equal(pulled, 1);
});

test('errors: unterminated quoted field', async () => {
  await assertError('a,"bc\nd\n', {}, 2, 'unterminated quoted field starting here');
  await assertError('a,"bc""', {}, 2, 'unterminated quoted field starting here');
  await assertError('a,"bc\\"', {}, 2, 'unterminated quoted field starting here');
  await assertError('x\n"', { startOffset: 100 }, 102, 'unterminated quoted field starting here');
});

test('errors: quote inside an unquoted field, junk after a closing quote, dangling escape', async () => {
  await assertError('ok\na,b"c\n', {}, 6, 'quote character inside an unquoted field');
  await assertError('a,b"', {}, 3, 'quote character inside an unquoted field');
  await assertError('"a"x,b\n', {}, 3, "expected a separator or the end of the line after a closing quote, found 'x'");
  await assertError('"a" ,b\n', {}, 3, "expected a separator or the end of the line after a closing quote, found ' '");
  await assertError('"a""b" "\n', {}, 6, "expected a separator or the end of the line after a closing quote, found ' '");
  await assertError('a,b\\', {}, 3, 'escape character at the end of the file');
  await assertError('1\n2\n"a"\t', { startOffset: 10 }, 17, 'expected a separator or the end of the line after a closing quote, found byte 0x09');
});

test('rows before an error are yielded first', async () => {
  const rows: SourceRow[] = [];
  await assert.rejects(
    (async () => {
      for await (const group of readCsvRows(chunked(b('1\n2\n3"\n'), 1), options({}))) rows.push(...group);
    })(),
    SourceFormatError,
  );
  assert.deepStrictEqual(
    rows.map((r) => r.values),
    [bs('1'), bs('2')],
  );
});

test('invalid options are a TypeError before any reading', async () => {
  const bad = async (csv: Partial<CsvOptions>): Promise<void> => {
    await assert.rejects(collect(b('a\n'), 1, { csv }), TypeError);
  };
  await bad({ separator: '' });
  await bad({ separator: '"', delimiter: '"' });
  await bad({ separator: ',', delimiter: ',,' });
  await bad({ escapedBy: '^^' });
  await bad({ escapedBy: ',' });
});
