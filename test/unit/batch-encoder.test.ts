import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSqlRows, readSqlRowsInto } from '../../activities/source/sql-reader';
import { BatchEncoder, columnMapping, EncodingSink, type ColumnMapping, type EncodedBatch } from '../../activities/database/batch-encoder';
import { checksumColumns, RowChecksummer } from '../../activities/database/row-checksum';
import type { TargetColumn } from '../../activities/database/table-columns';
import { seededRandom } from '../helpers/dump-fixture';

/**
 * The import writes SQL rows value by value from the file's bytes (the sink path); CSV and Parquet
 * rows, and this test's reference, go as SourceValue objects. Both must give the same batch, byte
 * for byte, and the same checksums as the general form of every value.
 */

function column(name: string, dataType: string, extra: Partial<TargetColumn> = {}): TargetColumn {
  return { name, dataType, columnType: dataType, numericScale: null, datetimePrecision: null, octetLength: null, generated: false, nullable: true, ...extra };
}

const COLUMNS: TargetColumn[] = [
  column('id', 'int'),
  column('amount', 'decimal', { numericScale: 2 }),
  column('name', 'varchar'),
  column('code', 'char'),
  column('tag', 'binary', { octetLength: 4 }),
  column('at', 'datetime', { datetimePrecision: 3 }),
  column('day', 'date'),
  column('ratio', 'double'),
  column('kind', 'enum'),
];

/** Literal SQL values a dump may hold for each column: the usual ones first, then odd ones (after the `|`). */
const VALUES: Record<string, [string[], string[]]> = {
  id: [['1', '-42', 'NULL'], ['007', '+5', '1e2', '0x1F', 'TRUE', 'false', "'12'", "b'101'"]],
  amount: [['12.34', '-7.25', '99999999.99', 'NULL'], ['12.3', '-0.00', '1e1', '.5', "'3.10'"]],
  name: [
    [
      "'plain'",
      "''",
      String.raw`'tab\there nl\nthere back\\slash nul\0 quote\' doubled'' pct\% Z\Z'`,
      `'raw	tab'`,
      `"dq ""doubled"" 'single'"`,
      "'中文 😀'",
      "_binary'bin\\0'",
      'NULL',
    ],
    ['_utf8mb4 0xE4B8AD', "X'4142'", "X''", '0x41', '123', '1.50', '007'],
  ],
  code: [["'ab  '", "'x'", "''", 'NULL'], ['5']],
  tag: [["'ab'", "'abcd'", 'NULL'], ["X'00ff'"]],
  at: [["'2024-01-02 03:04:05.678'", 'NULL'], ["'2024-1-2 3:4:5'", "'2024-01-02 03:04:05.6789'", "'2024-01-02'"]],
  day: [["'2024-01-02'", 'NULL'], ["'2024-1-2'", '20240102']],
  ratio: [['1.5', '1e300', '-0.1', 'NULL'], ["'2.5'", '3']],
  kind: [["'a'", "'b'", 'NULL'], ['2']],
};

function dump(seed: number, rows: number, columns: readonly string[] | undefined): Buffer {
  const random = seededRandom(seed);
  const names = columns ?? COLUMNS.map((c) => c.name);
  const tuples: string[] = [];
  for (let i = 0; i < rows; i++) {
    // Whole runs of usual rows, so that some batches go as LOAD DATA.
    const odd = i % 40 >= 20 ? 0.1 : 0;
    tuples.push(
      `(${names
        .map((name) => {
          const [usual, odds] = VALUES[name];
          const from = random() < odd ? odds : usual;
          return from[Math.floor(random() * from.length)];
        })
        .join(',')})`,
    );
  }
  const head = columns ? `INSERT INTO t (${columns.map((name) => `\`${name}\``).join(',')}) VALUES\n` : 'INSERT INTO t VALUES\n';
  return Buffer.from(`${head}${tuples.join(',\n')};\n`);
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

interface Encoded {
  batches: EncodedBatch[];
  crcs: Array<number | undefined>;
}

/** Feeds an encoder as the chunk writer does, a batch every `rowsPerBatch` rows. */
class Collector extends EncodingSink {
  readonly result: Encoded = { batches: [], crcs: [] };
  protected readonly encoder = new BatchEncoder(new RowChecksummer(checksumColumns(COLUMNS).covered), 64);

  constructor(
    private readonly mapping: ColumnMapping,
    private readonly rowsPerBatch: number,
  ) {
    super();
  }

  startRow(): void {
    this.encoder.startRow(this.mapping, true);
  }
  endRow(): void {
    this.result.crcs.push(this.encoder.endRow());
    if (this.encoder.rowCount >= this.rowsPerBatch) this.finish();
  }
  finish(): void {
    if (this.encoder.rowCount > 0) this.result.batches.push(this.encoder.take());
  }
}

function mappingFor(columns: readonly string[] | undefined): ColumnMapping {
  const targets = (columns ?? COLUMNS.map((c) => c.name)).map((name) => COLUMNS.find((c) => c.name === name)!);
  return columnMapping({ schema: 'db', name: 't' }, targets, checksumColumns(COLUMNS).covered, 'error', true);
}

async function bySink(data: Buffer, chunkSize: number, columns: readonly string[] | undefined, rowsPerBatch: number): Promise<Encoded> {
  const collector = new Collector(mappingFor(columns), rowsPerBatch);
  for await (const group of readSqlRowsInto(chunked(data, chunkSize), { path: 'x.sql' }, collector)) void group;
  collector.finish();
  return collector.result;
}

async function byValues(data: Buffer, columns: readonly string[] | undefined, rowsPerBatch: number): Promise<Encoded> {
  const collector = new Collector(mappingFor(columns), rowsPerBatch);
  for await (const rows of readSqlRows(chunked(data, 4096), { path: 'x.sql' })) {
    for (const row of rows) collector.addRow(row);
  }
  collector.finish();
  return collector.result;
}

/** Each row's CRC the general way: every value through its canonical form, in the table's column order. */
async function referenceCrcs(data: Buffer, columns: readonly string[] | undefined): Promise<Array<number | undefined>> {
  const covered = checksumColumns(COLUMNS).covered;
  const checksummer = new RowChecksummer(covered);
  const names = columns ?? COLUMNS.map((c) => c.name);
  const crcs: Array<number | undefined> = [];
  for await (const rows of readSqlRows(chunked(data, 4096), { path: 'x.sql' })) {
    for (const row of rows) {
      checksummer.startRow(true);
      covered.forEach(({ column }, slot) => {
        const value = row.values[names.indexOf(column.name)];
        if (value === null) checksummer.nullValue(slot);
        else checksummer.value(slot, value);
      });
      crcs.push(checksummer.endRow());
    }
  }
  return crcs;
}

/** What LOAD DATA reads from a batch as loadDataSql has it read: per row, each field's bytes (latin1), or null. */
function loadedValues(bytes: Buffer): Array<Array<string | null>> {
  const unescaped: Record<string, string> = { '0': '\0', t: '\t', n: '\n', r: '\r', b: '\b', Z: '\x1a' };
  const text = bytes.toString('latin1');
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    const enclosed = text[i] === "'";
    if (!enclosed && text.startsWith('\\N', i) && (text[i + 2] === '\t' || text[i + 2] === '\n')) {
      row.push(null);
      i += 2;
    } else {
      let value = '';
      if (enclosed) i++;
      for (;;) {
        const c = text[i];
        if (c === '\\') {
          value += unescaped[text[i + 1]] ?? text[i + 1];
          i += 2;
        } else if (enclosed && c === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (enclosed ? c === "'" : c === '\t' || c === '\n') {
          if (enclosed) i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      row.push(value);
    }
    if (text[i] === '\n') {
      rows.push(row);
      row = [];
    }
    i++;
  }
  return rows;
}

/** The values INSERT rows stand for, as the SQL reader reads them back. */
async function insertedValues(rows: string[]): Promise<Array<Array<Buffer | string | null>>> {
  const values: Array<Array<Buffer | string | null>> = [];
  for await (const group of readSqlRows(chunked(Buffer.from(`INSERT INTO t VALUES ${rows.join(',')};`, 'latin1'), 4096), { path: 'x.sql' })) {
    values.push(...group.map((row) => row.values));
  }
  return values;
}

/** A batch's way and the values it stands for: a string may be written in more than one way for the same bytes. */
async function shape(encoded: Encoded): Promise<{ loads: unknown[]; inserts: unknown[]; crcs: Array<number | undefined> }> {
  return {
    loads: encoded.batches.map((batch) => (batch.load ? loadedValues(batch.load.bytes()) : '(insert)')),
    inserts: await Promise.all(encoded.batches.map((batch) => insertedValues(batch.load ? batch.load.insertRows().rows : batch.rows))),
    crcs: encoded.crcs,
  };
}

test('values written straight from the file make the same batches and checksums as SourceValue objects, however the input is split', async () => {
  for (const seed of [1, 2, 3]) {
    const data = dump(seed, 300, undefined);
    const reference = await shape(await byValues(data, undefined, 7));
    // Mostly INSERT batches (odd literals are common here), and some that go as LOAD DATA.
    assert.ok(reference.loads.some((load) => load !== '(insert)'));
    assert.ok(reference.loads.some((load) => load === '(insert)'));
    assert.deepEqual(reference.crcs, await referenceCrcs(data, undefined));
    assert.ok(reference.crcs.some((crc) => crc !== undefined));
    for (const chunkSize of [1, 3, 64, 4096]) assert.deepEqual(await shape(await bySink(data, chunkSize, undefined, 7)), reference, `seed ${seed}, ${chunkSize}-byte buffers`);
  }
});

test('a column list in another order than the table checksums the values in the table order', async () => {
  const columns = ['name', 'id', 'kind', 'amount', 'ratio', 'day', 'at', 'tag', 'code'];
  const data = dump(9, 200, columns);
  const sink = await shape(await bySink(data, 5, columns, 11));
  assert.deepEqual(sink, await shape(await byValues(data, columns, 11)));
  assert.deepEqual(sink.crcs, await referenceCrcs(data, columns));
  // A column the list leaves out has no value to compare: those rows' checksums are unknown.
  const partial = ['name', 'id'];
  assert.deepEqual(new Set((await bySink(dump(4, 20, partial), 64, partial, 5)).crcs), new Set([undefined]));
});

test('clean batches go as LOAD DATA with strings enclosed as the dump wrote them; a batch with a literal LOAD DATA cannot carry goes as its INSERT', async () => {
  const data = Buffer.from(
    "INSERT INTO t (id, name, amount) VALUES (1,'a\\tb\\\\c\\nd',1.50),(2,NULL,'2.00'),(3,'x''y',-3);\n" + 'INSERT INTO t (id, name, amount) VALUES (4,0x41,1.00),(0x10,\'z\',2.00);\n',
  );
  const columns = ['id', 'name', 'amount'];
  const encoded = await bySink(data, 2, columns, 3);
  assert.equal(encoded.batches[0].load!.bytes().toString(), "1\t'a\\tb\\\\c\\nd'\t1.50\n2\t\\N\t'2.00'\n3\t'x''y'\t-3\n");
  // 0x10 into an INT column is 16 to an INSERT, 0 to LOAD DATA: the batch turns into the INSERT, rows before it included.
  assert.equal(encoded.batches[1].load, undefined);
  assert.deepEqual(encoded.batches[1].rows, ["(4,'A',1.00)", "(0x10,'z',2.00)"]);
});

test('a row dropped for good (imported before a resume) leaves nothing to the next row, even after its batch turned into an INSERT', () => {
  const columns = [COLUMNS[2], COLUMNS[0]]; // name (a string), id (an integer)
  const encoder = new BatchEncoder(undefined, 64);
  const mapping = columnMapping({ schema: 'db', name: 't' }, columns, [], 'error', true);
  const literal = (text: string) => encoder.literalValue(Buffer.from(text), 0, text.length);
  encoder.startRow(mapping, true);
  encoder.builtValue(Buffer.from('skipped'));
  literal('0x10'); // 16 to the INSERT, 0 to LOAD DATA: the batch turns into an INSERT mid-row
  encoder.dropRow();
  encoder.startRow(mapping, true);
  encoder.builtValue(Buffer.from('kept'));
  literal('2');
  encoder.endRow();
  assert.deepEqual(encoder.take().rows, ["('kept',2)"]);
});
