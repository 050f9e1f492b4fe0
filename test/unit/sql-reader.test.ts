import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSqlRows } from '../../activities/source/sql-reader';
import { SourceFormatError, type SourceRow, type SourceValue } from '../../activities/source/row';

const PATH = 'db.t.000000001.sql';

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(data: Buffer, size: number): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const group of readSqlRows(chunked(data, size), { path: PATH })) {
    assert.ok(group.length > 0, 'groups are never empty');
    rows.push(...group);
  }
  return rows;
}

function toBuffer(text: string | Buffer): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

/** Reads `text` whole and in 1-, 2- and 5-byte buffers; asserts the readings agree; returns the rows. */
async function read(text: string | Buffer): Promise<SourceRow[]> {
  const data = toBuffer(text);
  const whole = await collect(data, Math.max(1, data.length));
  for (const size of [1, 2, 5]) assert.deepStrictEqual(await collect(data, size), whole, `fed in ${size}-byte buffers`);
  return whole;
}

async function values(text: string | Buffer): Promise<SourceValue[][]> {
  return (await read(text)).map((row) => row.values);
}

/** The SourceFormatError reading `text` throws (the same whole and in 1-byte buffers). */
async function readError(text: string | Buffer): Promise<SourceFormatError> {
  const data = toBuffer(text);
  const errors: SourceFormatError[] = [];
  for (const size of [Math.max(1, data.length), 1]) {
    try {
      await collect(data, size);
      assert.fail(`expected a SourceFormatError (fed in ${size}-byte buffers)`);
    } catch (e) {
      assert.ok(e instanceof SourceFormatError, `expected a SourceFormatError, got ${String(e)}`);
      errors.push(e);
    }
  }
  assert.equal(errors[1].offset, errors[0].offset, 'same offset in 1-byte buffers');
  assert.equal(errors[1].reason, errors[0].reason, 'same reason in 1-byte buffers');
  return errors[0];
}

async function assertError(text: string, offset: number, reason: string | RegExp): Promise<void> {
  const e = await readError(text);
  if (typeof reason === 'string') assert.equal(e.reason, reason);
  else assert.match(e.reason, reason);
  assert.equal(e.offset, offset, `offset of: ${e.reason}`);
  assert.equal(e.path, PATH);
  assert.ok(e.message.includes(`${PATH}: byte offset ${offset}: ${e.reason}`));
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('INSERT with a column list: values, columns and end offsets', async () => {
  const text = "INSERT INTO `t` (`id`,`name`) VALUES (1,'a'),(2,'b');\n";
  const rows = await read(text);
  assert.deepStrictEqual(rows, [
    { values: ['1', b('a')], columns: ['id', 'name'], endOffset: 44 },
    { values: ['2', b('b')], columns: ['id', 'name'], endOffset: 52 },
  ]);
  assert.equal(text[43], ')');
  assert.equal(text[51], ')');
  assert.equal(rows[0].columns, rows[1].columns, 'one array object for all rows of a statement');
});

test('INSERT without a column list has columns undefined; each statement has its own column array', async () => {
  const rows = await read('INSERT INTO t VALUES (1);INSERT INTO t (a) VALUES (2);INSERT INTO t (a) VALUES (3);');
  assert.deepStrictEqual(
    rows.map((r) => r.columns),
    [undefined, ['a'], ['a']],
  );
  assert.notEqual(rows[1].columns, rows[2].columns);
  assert.deepStrictEqual(
    rows.map((r) => r.endOffset),
    [24, 53, 82],
  );
});

test('names: backquoted with doubled backquotes, double-quoted, bare, qualified, non-ASCII', async () => {
  const rows = await read('INSERT INTO `my db`.`t``x` (`a``b`, "c""d", e_1, `列名`, "😀") VALUES (1,2,3,4,5);');
  assert.deepStrictEqual(rows[0].columns, ['a`b', 'c"d', 'e_1', '列名', '😀']);
  assert.deepStrictEqual(await values('INSERT INTO db . t VALUES (1);'), [['1']]);
  assert.deepStrictEqual(await values('INSERT INTO "db"."t"(a)VALUES(1);'), [['1']]);
  assert.deepStrictEqual(await values('insert into t() values ();'), [[]]);
});

test('INSERT IGNORE, REPLACE INTO, VALUE, keywords in any case', async () => {
  assert.deepStrictEqual(await values('INSERT IGNORE INTO t VALUES (1);'), [['1']]);
  assert.deepStrictEqual(await values('insert ignore into t values (2);'), [['2']]);
  assert.deepStrictEqual(await values('REPLACE INTO t VALUES (3);'), [['3']]);
  assert.deepStrictEqual(await values('rEpLaCe InTo t VaLuEs (4);'), [['4']]);
  assert.deepStrictEqual(await values('INSERT INTO t VALUE (5);'), [['5']]);
});

test('skips comments, versioned comments, SET, LOCK/UNLOCK TABLES, transactions and empty statements', async () => {
  const text = [
    '-- MySQL dump 10.13',
    '# hash comment',
    '/* block',
    '   comment; with (parens) and \'quotes */',
    '/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;',
    '/*!40101 SET NAMES binary*/;',
    "SET @a = 'x;y', @b = \"p;q\", @c = `r;s`; -- trailing",
    'SET sql_mode = \'\' /* ; */ ;',
    'LOCK TABLES `t` WRITE;',
    '/*!40000 ALTER TABLE `t` DISABLE KEYS */;',
    'start transaction;',
    'BEGIN;',
    ';;',
    'INSERT INTO `t` VALUES /* c1 */ (1 /* c2 */ , -- c3',
    '  2) # c4',
    '  , (3,4);',
    'COMMIT;',
    'UNLOCK TABLES;',
    '',
  ].join('\n');
  assert.deepStrictEqual(await values(text), [
    ['1', '2'],
    ['3', '4'],
  ]);
});

test('an empty file, or one with only comments and SET, has no rows', async () => {
  assert.deepStrictEqual(await read(''), []);
  assert.deepStrictEqual(await read('  \n-- x\n/*!40101 SET NAMES binary*/;\nSET x=1;\n'), []);
  assert.deepStrictEqual(await read('-- comment at the end without newline'), []);
  assert.deepStrictEqual(await read('--'), []);
});

test('the last statement may end at the end of the file without ;', async () => {
  const rows = await read('INSERT INTO t VALUES (1),(2)');
  assert.deepStrictEqual(
    rows.map((r) => [r.values, r.endOffset]),
    [
      [['1'], 24],
      [['2'], 28],
    ],
  );
  assert.deepStrictEqual(await values('INSERT INTO t VALUES (1)\n-- done'), [['1']]);
  assert.deepStrictEqual(await values('SET a=1'), []);
});

test('NULL in any case', async () => {
  assert.deepStrictEqual(await values('INSERT INTO t VALUES (NULL,null,Null,nULL);'), [[null, null, null, null]]);
});

test('numbers and booleans are verbatim strings', async () => {
  assert.deepStrictEqual(await values('INSERT INTO t VALUES (123,-1,+3,1.5,.5,-1.5e-10,1E3,0,007,1.,-0.0,2e+5,TRUE,false,True);'), [
    ['123', '-1', '+3', '1.5', '.5', '-1.5e-10', '1E3', '0', '007', '1.', '-0.0', '2e+5', 'TRUE', 'false', 'True'],
  ]);
});

test('hex and bit literals are normalised strings', async () => {
  assert.deepStrictEqual(await values("INSERT INTO t VALUES (0x4142,X'4142',x'4a4B',X'',x'',0xabc,b'0101',B'0101',0b0101,b'');"), [
    ['0x4142', '0x4142', '0x4a4B', "X''", "x''", '0xabc', "b'0101'", "b'0101'", "b'0101'", "b''"],
  ]);
});

test("'…' and \"…\" strings: doubled quotes and backslash escapes", async () => {
  const rows = await values(
    String.raw`INSERT INTO t VALUES ('it''s','say ""hi""',"it''s","say ""hi""",'\0\'\"\b\n\r\t\Z\\\%\_\q\é','', "");`,
  );
  assert.deepStrictEqual(rows, [
    [
      b("it's"),
      b('say ""hi""'),
      b("it''s"),
      b('say "hi"'),
      Buffer.concat([Buffer.from([0x00, 0x27, 0x22, 0x08, 0x0a, 0x0d, 0x09, 0x1a, 0x5c]), b('\\%\\_q'), b('é')]),
      b(''),
      b(''),
    ],
  ]);
});

test('strings may hold raw newlines, semicolons, parens, comment markers', async () => {
  assert.deepStrictEqual(await values("INSERT INTO t VALUES ('a\nb;c)(d -- e /* f */ # g');"), [[b('a\nb;c)(d -- e /* f */ # g')]]);
});

test('charset introducers: the string bytes (or decoded hex bytes) without the introducer', async () => {
  assert.deepStrictEqual(
    await values("INSERT INTO t VALUES (_binary'a\\0b',_utf8mb4'中',_latin1 'x',_binary\n\"y\",_binary 0x4142,_utf8mb4 X'E4B8AD',_binary X'',_binary 0x414);"),
    [[b('a\0b'), b('中'), b('x'), b('y'), b('AB'), b('中'), b(''), Buffer.from([0x04, 0x14])]],
  );
});

test('binary bytes inside strings are kept byte-exact', async () => {
  const all: number[] = [];
  for (let c = 0; c < 256; c++) if (c !== 0x27 && c !== 0x5c) all.push(c);
  const body = Buffer.from(all);
  const text = Buffer.concat([b("INSERT INTO t VALUES (_binary'"), body, b("', '"), Buffer.from([0xff, 0xfe, 0x80, 0x27, 0x27, 0x5c, 0x5c]), b("');")]);
  assert.deepStrictEqual(await values(text), [[body, Buffer.from([0xff, 0xfe, 0x80, 0x27, 0x5c])]]);
});

test('UTF-8 (CJK, emoji) survives being split across 1-byte buffers', async () => {
  const rows = await read("INSERT INTO `表` (`名前`) VALUES ('東京タワー 🗼'),('👨‍👩‍👧 family');");
  assert.deepStrictEqual(rows[0].columns, ['名前']);
  assert.deepStrictEqual(
    rows.map((r) => (r.values[0] as Buffer).toString('utf8')),
    ['東京タワー 🗼', '👨‍👩‍👧 family'],
  );
});

test('a UTF-8 byte order mark at the start is skipped', async () => {
  assert.deepStrictEqual(await values('\ufeffINSERT INTO t VALUES (1);'), [['1']]);
});

test('end offsets are absolute byte offsets just past each row', async () => {
  const text = "SET NAMES utf8mb4;\nINSERT INTO t VALUES ('é', 1) , ('😀',2);\nINSERT INTO t VALUES (3);";
  const data = b(text);
  const rows = await read(data);
  const ends = rows.map((r) => r.endOffset);
  assert.deepStrictEqual(ends, [49, 62, 88]);
  for (const end of ends) assert.equal(data[end - 1], 0x29);
});

test('rows are yielded while the statement is still arriving (memory bounded by a row, not a statement)', async () => {
  let pulled = 0;
  async function* input(): AsyncGenerator<Buffer> {
    pulled++;
    yield b('INSERT INTO t VALUES (1),(2),');
    pulled++;
    yield b('(3);');
  }
  const it = readSqlRows(input(), { path: PATH })[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(pulled, 1);
  assert.deepStrictEqual(
    first.value?.map((r: SourceRow) => r.values),
    [['1'], ['2']],
  );
  const second = await it.next();
  assert.deepStrictEqual(
    second.value?.map((r: SourceRow) => r.values),
    [['3']],
  );
  assert.equal((await it.next()).done, true);

  // A 2 MB statement in 64 KiB buffers comes out in many groups.
  const tuples: string[] = [];
  for (let i = 0; i < 100_000; i++) tuples.push(`(${i},'row ${i}')`);
  const big = b(`INSERT INTO t VALUES ${tuples.join(',')};`);
  let groups = 0;
  let count = 0;
  for await (const group of readSqlRows(chunked(big, 65536), { path: PATH })) {
    groups++;
    count += group.length;
  }
  assert.equal(count, 100_000);
  assert.ok(groups >= big.length / 65536 - 1, `${groups} groups`);
});

test('a string longer than the input buffers', async () => {
  const long = 'x'.repeat(300_000) + "\\'" + 'y'.repeat(100_000);
  const data = b(`INSERT INTO t VALUES ('${long}', 1);`);
  for (const size of [65536, 1000, data.length]) {
    const rows = await collect(data, size);
    assert.equal(rows.length, 1);
    assert.deepStrictEqual(rows[0].values, [b('x'.repeat(300_000) + "'" + 'y'.repeat(100_000)), '1']);
  }
});

test('errors: junk after a value', async () => {
  await assertError('INSERT INTO t VALUES (1 x);', 24, "expected ',' or ')' after a value, found 'x'");
  await assertError("INSERT INTO t VALUES ('a' 'b');", 26, "expected ',' or ')' after a value, found '''");
  await assertError('INSERT INTO t VALUES (1.5.3);', 25, "expected ',' or ')' after a value, found '.'");
  await assertError('INSERT INTO t VALUES (0X41);', 23, "expected ',' or ')' after a value, found 'X41'");
});

test('errors: unterminated string, comment, quoted name', async () => {
  await assertError("INSERT INTO t VALUES (1,'abc", 24, 'unterminated string starting here');
  await assertError("INSERT INTO t VALUES (1,'abc\\'", 24, 'unterminated string starting here');
  await assertError("INSERT INTO t VALUES (1,'abc\\", 24, 'unterminated string starting here');
  await assertError("SET a = 'x;", 8, 'unterminated string starting here');
  await assertError('/* never closed', 0, 'unterminated comment starting here');
  await assertError('INSERT INTO `t VALUES (1);', 12, 'unterminated quoted name starting here');
});

test('errors: unexpected statements', async () => {
  await assertError('DELETE FROM t;', 0, "unexpected statement 'DELETE'");
  await assertError('SET a=1;\nCREATE TABLE t (a int);', 9, "unexpected statement 'CREATE'");
  await assertError('(1,2);', 0, "unexpected '(' at the start of a statement");
  await assertError('LOCK t;', 5, "expected TABLES after LOCK, found 't'");
  await assertError('START t;', 6, "expected TRANSACTION after START, found 't'");
  await assertError('INSERT t VALUES (1);', 7, "expected INTO after INSERT, found 't'");
  await assertError('REPLACE IGNORE INTO t VALUES (1);', 8, "expected INTO after REPLACE, found 'IGNORE'");
  await assertError('INSERT INTO t SET a=1;', 14, "expected VALUES, found 'SET'");
  await assertError('INSERT INTO t (a,) VALUES (1);', 17, "expected a column name, found ')'");
  await assertError('INSERT INTO t (a b) VALUES (1);', 17, "expected ',' or ')' in the column list, found 'b'");
  await assertError('INSERT INTO ;', 12, "expected a table name, found ';'");
});

test('errors: bad values', async () => {
  await assertError('INSERT INTO t VALUES (NOW());', 22, "unknown keyword 'NOW' where a value was expected");
  await assertError('INSERT INTO t VALUES (DEFAULT);', 22, "unknown keyword 'DEFAULT' where a value was expected");
  await assertError('INSERT INTO t VALUES (1,);', 24, "expected a value, found ')'");
  await assertError('INSERT INTO t VALUES (--1);', 22, "invalid number starting with '-'");
  await assertError('INSERT INTO t VALUES (.);', 22, "invalid number starting with '.'");
  await assertError('INSERT INTO t VALUES (0x);', 22, 'invalid hex literal: no digits after 0x');
  await assertError('INSERT INTO t VALUES (0b2);', 22, 'invalid bit literal: no binary digits after 0b');
  await assertError("INSERT INTO t VALUES (X'414');", 22, 'invalid hex literal: odd number of digits');
  await assertError("INSERT INTO t VALUES (X'4G');", 22, "invalid hex literal: expected hex digits and a closing quote, found 'G'");
  await assertError("INSERT INTO t VALUES (b'012');", 22, "invalid bit literal: expected 0 or 1 and a closing quote, found '2'");
  await assertError('INSERT INTO t VALUES (_binary 1);', 30, "expected a quoted string after the charset introducer '_binary', found '1'");
  await assertError('INSERT INTO t VALUES (@x);', 22, "expected a value, found '@'");
  await assertError('INSERT INTO t VALUES (\x01);', 22, 'expected a value, found byte 0x01');
});

test('errors: unbalanced parentheses and rows', async () => {
  await assertError('INSERT INTO t VALUES (1,2', 21, "row not closed by ')' before the end of the file");
  await assertError('INSERT INTO t VALUES (1,', 21, "row not closed by ')' before the end of the file");
  await assertError('INSERT INTO t VALUES (', 21, "row not closed by ')' before the end of the file");
  await assertError('INSERT INTO t VALUES (1,2));', 26, "expected ',' or ';' after a row, found ')'");
  await assertError('INSERT INTO t VALUES 1;', 21, "expected '(' to start a row, found '1'");
  await assertError('INSERT INTO t VALUES;', 20, "expected '(' to start a row, found ';'");
  await assertError('INSERT INTO t VALUES (1),;', 25, "expected '(' to start a row, found ';'");
  await assertError('INSERT INTO t VALUES (1),', 25, "expected '(' to start a row, found end of file");
  await assertError('INSERT INTO t VALUES ((1));', 22, "expected a value, found '('");
});

test('errors: rows of the wrong width', async () => {
  await assertError('INSERT INTO t (a,b) VALUES (1,2),(3);', 33, 'row has 1 values but the column list has 2');
  await assertError('INSERT INTO t VALUES (1,2),(3,4,5);', 27, 'row has 3 values but the first row of the statement has 2');
  // Each statement has its own width.
  assert.deepStrictEqual(await values('INSERT INTO t VALUES (1,2);INSERT INTO t VALUES (3);'), [['1', '2'], ['3']]);
});

test('errors are reported at absolute offsets after earlier rows were yielded', async () => {
  const text = "INSERT INTO t VALUES (1),(2);\nINSERT INTO t VALUES ('ok'),(bad);";
  const rows: SourceRow[] = [];
  await assert.rejects(
    (async () => {
      for await (const group of readSqlRows(chunked(b(text), 1), { path: PATH })) rows.push(...group);
    })(),
    (e: unknown) => e instanceof SourceFormatError && e.offset === 59 && e.reason === "unknown keyword 'bad' where a value was expected",
  );
  assert.deepStrictEqual(
    rows.map((r) => r.values),
    [['1'], ['2'], [b('ok')]],
  );
});
