import assert from 'node:assert/strict';
import { test } from 'node:test';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { checksumColumns, RowChecksummer, targetChecksumSelect } from '../../activities/target/row-checksum';
import { readTargetColumns } from '../../activities/target/table-columns';
import { importDirectly, poolOfConfig, settingsOfConfig, writeDirectConfig } from '../helpers/direct-import';
import { generateDump } from '../helpers/dump-fixture';
import { mariadb, testScratch, uniqueName } from '../helpers/target-db';

const scratch = testScratch('tempest-row-checksum');

/** A value as a reader hands it over: a quoted string's bytes, an unquoted literal's text, or NULL. */
type Value = Buffer | string | null;

/** Column types, each with values a dump may hold for it (NULL in every nullable one). */
const kinds: Array<{ type: string; values: Value[] }> = [
  { type: 'INT', values: ['-7', '0', '2147483647', null] },
  { type: 'BIGINT UNSIGNED', values: ['18446744073709551615', '0x1F', '1', null] },
  { type: 'DECIMAL(12,3)', values: ['-1.5', '0', '123456789.125', null] },
  { type: 'DOUBLE', values: ['1e-7', '3.141592653589793', '-0', null] },
  { type: 'FLOAT', values: ['0.1', '16777217', '-2.5', null] },
  { type: 'BIT(12)', values: ["b'101'", '0x0fff', '0', null] },
  { type: 'VARCHAR(40)', values: [Buffer.from('a\u001fb'), Buffer.from('中文 😀'), Buffer.from(''), null] },
  { type: 'CHAR(6)', values: [Buffer.from('ab  '), Buffer.from(''), Buffer.from('\u001f'), null] },
  { type: 'BINARY(4)', values: [Buffer.from([0x1f]), Buffer.from([0, 1, 2, 3]), Buffer.from(''), null] },
  { type: 'BLOB', values: [Buffer.from([0x1f, 0x1f, 0]), Buffer.alloc(300, 7), Buffer.from(''), null] },
  { type: 'DATE', values: [Buffer.from('2024-02-29'), Buffer.from('1999-1-2'), Buffer.from('0000-00-00'), null] },
  { type: 'DATETIME(3)', values: [Buffer.from('2024-02-29 23:59:59.123'), Buffer.from('2001-01-01 1:2:3.45678'), Buffer.from('2001-01-01'), null] },
  { type: 'TIME', values: [Buffer.from('-838:59:59'), Buffer.from('1:2:3'), Buffer.from('00:00:00'), null] },
  { type: "ENUM('x','y')", values: [Buffer.from('x'), Buffer.from('y'), Buffer.from('x'), null] },
];

function literal(value: Value): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return value;
  return `X'${value.toString('hex')}'`;
}

test('the target’s checksum SQL and the source’s RowChecksummer agree on every type, NULL anywhere, over more than 32 nullable columns, values in order or not', async () => {
  const schema = uniqueName('tempest_row_checksum');
  scratch.databases.push(schema);
  // 56 columns: the types four times over, every fourth NOT NULL; the 42 nullable ones put NULLs in both null words.
  const columns = Array.from({ length: 56 }, (_, index) => {
    const kind = kinds[index % kinds.length];
    const notNull = index % 4 === 3;
    return { name: `c${index}`, type: `${kind.type}${notNull ? ' NOT NULL' : ''}`, values: notNull ? kind.values.filter((value) => value !== null) : kind.values };
  });
  const rowCount = 12;
  const rows: Value[][] = Array.from({ length: rowCount }, (_, row) => columns.map((column, index) => column.values[(row + index) % column.values.length]));

  const target = await mysql.createConnection({ ...mariadb, charset: 'BINARY', supportBigNumbers: true, bigNumberStrings: true });
  try {
    await target.query("SET SESSION sql_mode = 'ALLOW_INVALID_DATES', time_zone = '+00:00'");
    await target.query(`CREATE DATABASE \`${schema}\``);
    await target.query(`CREATE TABLE \`${schema}\`.t (${columns.map(({ name, type }) => `${name} ${type}`).join(', ')})`);
    await target.query(`INSERT INTO \`${schema}\`.t VALUES ${rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ')}`);

    const covered = checksumColumns(await readTargetColumns(target as unknown as mysql.Pool, schema, 't')).covered;
    assert.equal(covered.length, columns.length, 'every column is covered');
    const checksummer = new RowChecksummer(covered);
    let sum = 0n;
    for (const [number, row] of rows.entries()) {
      // Every other row's values come last column first, as a column list in another order gives them.
      const inOrder = number % 2 === 0;
      checksummer.startRow(inOrder);
      const indexes = row.map((_, index) => index);
      for (const index of inOrder ? indexes : indexes.reverse()) {
        const value = row[index];
        if (value === null) checksummer.nullValue(index);
        else checksummer.value(index, value);
      }
      const crc = checksummer.endRow();
      assert.notEqual(crc, undefined, 'every value’s stored form is predicted');
      sum += BigInt(crc!);
    }
    const [result] = await target.query<RowDataPacket[]>(targetChecksumSelect(`\`${schema}\`.t`, covered));
    assert.equal(Number(result[0].row_count), rowCount);
    assert.equal(String(result[0].checksum), sum.toString());
  } finally {
    await target.end();
  }
});

test('bytes moved across a column boundary, even at a separator byte, change the checksum', async () => {
  const schema = uniqueName('tempest_row_checksum');
  scratch.databases.push(schema);
  const target = await mysql.createConnection({ ...mariadb, charset: 'BINARY', supportBigNumbers: true, bigNumberStrings: true });
  try {
    await target.query(`CREATE DATABASE \`${schema}\``);
    const checksums: string[] = [];
    for (const [name, values] of [
      ['shifted_left', "(X'611f', 'b')"],
      ['shifted_right', "('a', X'1f62')"],
      ['null_first', "(NULL, 'a')"],
      ['null_second', "('a', NULL)"],
    ]) {
      await target.query(`CREATE TABLE \`${schema}\`.${name} (a VARBINARY(8), b VARBINARY(8))`);
      await target.query(`INSERT INTO \`${schema}\`.${name} VALUES ${values}`);
      const covered = checksumColumns(await readTargetColumns(target as unknown as mysql.Pool, schema, name)).covered;
      const [result] = await target.query<RowDataPacket[]>(targetChecksumSelect(`\`${schema}\`.${name}`, covered));
      checksums.push(String(result[0].checksum));
    }
    assert.equal(new Set(checksums).size, checksums.length, `four different checksums: ${checksums.join(', ')}`);
  } finally {
    await target.end();
  }
});

test('a NULL that a lax sql_mode stores as a NOT NULL column’s default does not checksum as the row the source gave', async () => {
  const schema = uniqueName('tempest_row_checksum');
  scratch.databases.push(schema);
  const target = await mysql.createConnection({ ...mariadb, charset: 'BINARY', supportBigNumbers: true, bigNumberStrings: true });
  try {
    await target.query("SET SESSION sql_mode = ''");
    await target.query(`CREATE DATABASE \`${schema}\``);
    await target.query(`CREATE TABLE \`${schema}\`.t (a INT NOT NULL, b VARCHAR(5) NOT NULL, c INT)`);
    // Stored as (0, 'x', NULL) and (1, '', 2), with warnings.
    await target.query(`INSERT INTO \`${schema}\`.t VALUES (NULL, 'x', NULL), (1, NULL, 2)`);
    const covered = checksumColumns(await readTargetColumns(target as unknown as mysql.Pool, schema, 't')).covered;
    const sumOf = (rows: Value[][]) => {
      const checksummer = new RowChecksummer(covered);
      let sum = 0n;
      for (const row of rows) {
        checksummer.startRow(true);
        row.forEach((value, index) => (value === null ? checksummer.nullValue(index) : checksummer.value(index, value)));
        sum += BigInt(checksummer.endRow()!);
      }
      return sum.toString();
    };
    const [result] = await target.query<RowDataPacket[]>(targetChecksumSelect(`\`${schema}\`.t`, covered));
    assert.equal(String(result[0].checksum), sumOf([['0', Buffer.from('x'), null], ['1', Buffer.from(''), '2']]), 'the rows as stored checksum alike');
    assert.notEqual(String(result[0].checksum), sumOf([[null, Buffer.from('x'), null], ['1', null, '2']]), 'the rows the source gave do not');
  } finally {
    await target.end();
  }
});

test('a task started before checksums had an encoding number is verified by row count, and says so', async () => {
  const schema = uniqueName('tempest_row_checksum');
  const taskInfo = `${schema}_info`;
  scratch.databases.push(schema, taskInfo);
  const fixture = generateDump({ schema, dir: `${scratch.dir}/${schema}`, rows: 60, rowsPerFile: 30, seed: 3 });
  const config = writeDirectConfig(`${scratch.dir}/${schema}-config`, { sourceDir: fixture.dir, taskInfoSchema: taskInfo });
  const pool = poolOfConfig(config);
  try {
    const { checksumVersion, ...olderSettings } = settingsOfConfig(config);
    assert.ok(checksumVersion, 'a new task records its encoding');
    const outcome = await importDirectly(pool, olderSettings);
    for (const table of outcome.tables) {
      assert.equal(table.verify.status, 'skipped', table.key);
      assert.equal(table.verify.targetRows, table.verify.sourceRows, table.key);
      assert.match(table.verify.note ?? '', /checksummed rows differently, so contents were compared by row count only/);
    }
  } finally {
    await pool.end();
  }
});
