import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Connection } from 'mysql2/promise';

/**
 * A generated Dumpling-layout dump whose every value is known: the tests load the same values into
 * a reference database through parameterised statements (another path than the dump text) and
 * compare the imported tables with it row for row.
 */

export type FixtureValue = string | number | Buffer | null;

export interface FixtureTable {
  name: string;
  columns: string;
  rows: FixtureValue[][];
  /** How the reference receives each column: the value as it is, or a BIT value as a number. */
  format: 'sql' | 'csv';
}

export interface DumpFixture {
  schema: string;
  dir: string;
  tables: FixtureTable[];
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const textPieces = ['a', 'Z', 'q', ' ', ',', '"', "'", '\\', '\n', '\r\n', '\t', '中', '文', '😀', 'é', '%', '_', '\\N', 'NULL', '0x1', ';', '(', ')', '`'];

export interface FixtureOptions {
  schema: string;
  dir: string;
  seed?: number;
  /** Rows of the main typed table; the others scale with it. */
  rows: number;
  /** Rows per data file (several files per table). */
  rowsPerFile?: number;
  /**
   * How binary values are written: `mixed` (the default) writes some as hex and some as `_binary '…'`
   * strings of raw bytes (as mydumper does); `hex` writes them all as hex, which stock Lightning's
   * parser also reads (it takes no `_binary` introducer).
   */
  binaryLiterals?: 'mixed' | 'hex';
}

export function generateDump(options: FixtureOptions): DumpFixture {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const text = (maxPieces: number) => Array.from({ length: int(0, maxPieces) }, () => pick(textPieces)).join('');
  const bytes = (max: number) => Buffer.from(Array.from({ length: int(0, max) }, () => int(0, 255)));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const maybeNull = <T>(value: T) => (random() < 0.1 ? null : value);

  const typed: FixtureValue[][] = [];
  for (let id = 1; id <= options.rows; id++) {
    typed.push([
      id,
      text(12),
      maybeNull(`${random() < 0.5 ? '-' : ''}${int(0, 99999999)}.${pad(int(0, 9999), 4)}`),
      maybeNull(pick([0, -0.5, 1e-7, 123456.789, Math.PI * int(-1000, 1000), 2 ** 53 + 2, 1.7976931348623157e308, 5e-324])),
      `20${pad(int(0, 37))}-${pad(int(1, 12))}-${pad(int(1, 28))} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(int(0, 999999), 6)}`,
      maybeNull(`${int(1000, 9999)}-${pad(int(1, 12))}-${pad(int(1, 28))}`),
      maybeNull(`${random() < 0.2 ? '-' : ''}${int(0, 838)}:${pad(int(0, 59))}:${pad(int(0, 59))}`),
      maybeNull(bytes(40)),
      int(0, 255),
      maybeNull(text(40)),
      text(3).replace(/[\u0100-\uffff]|\ud83d\ude00/g, 'x').slice(0, 5),
      bytes(4),
      maybeNull(`${int(0, 2 ** 31)}${pad(int(0, 99999999), 8)}`),
      int(-128, 127),
    ]);
  }
  const keyless: FixtureValue[][] = [];
  for (let i = 0; i < Math.ceil(options.rows / 2); i++) {
    // Few distinct values: the table holds many identical rows, which must each arrive exactly once.
    keyless.push([int(1, 5), pick(['x', 'y', '中文', "it's", 'back\\slash']), `${int(0, 3)}.${pad(int(0, 1) * 50)}`]);
  }
  const csvRows: FixtureValue[][] = [];
  for (let id = 1; id <= options.rows; id++) {
    csvRows.push([id, maybeNull(text(20)), `${int(-99999, 99999)}.${pad(int(0, 99))}`, `20${pad(int(10, 30))}-${pad(int(1, 12))}-${pad(int(1, 28))}`, maybeNull(int(-1000, 1000))]);
  }

  const tables: FixtureTable[] = [
    {
      name: 'typed',
      format: 'sql',
      columns: `id INT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, price DECIMAL(14,4), ratio DOUBLE, created DATETIME(6) NOT NULL,
        day DATE, dur TIME, payload VARBINARY(64), flags BIT(8) NOT NULL, note TEXT, fixed CHAR(5) NOT NULL, bin BINARY(4) NOT NULL,
        big BIGINT UNSIGNED, tiny TINYINT NOT NULL`,
      rows: typed,
    },
    { name: 'keyless', format: 'sql', columns: 'a INT NOT NULL, b VARCHAR(30) NOT NULL, c DECIMAL(6,2) NOT NULL', rows: keyless },
    { name: 'from_csv', format: 'csv', columns: 'id INT NOT NULL PRIMARY KEY, txt VARCHAR(400), amount DECIMAL(10,2) NOT NULL, d DATE NOT NULL, n INT', rows: csvRows },
  ];

  fs.mkdirSync(options.dir, { recursive: true });
  fs.writeFileSync(path.join(options.dir, `${options.schema}-schema-create.sql`), `CREATE DATABASE \`${options.schema}\` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n`);
  const perFile = options.rowsPerFile ?? Math.max(1, Math.ceil(options.rows / 3));
  for (const table of tables) {
    fs.writeFileSync(
      path.join(options.dir, `${options.schema}.${table.name}-schema.sql`),
      `/*!40101 SET NAMES binary*/;\nCREATE TABLE \`${table.name}\` (${table.columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n`,
    );
    for (let start = 0, file = 0; start < table.rows.length; start += perFile, file++) {
      const rows = table.rows.slice(start, start + perFile);
      const body = table.format === 'sql' ? sqlFile(table.name, rows, options.binaryLiterals ?? 'mixed') : csvFile(table, rows);
      const name = `${options.schema}.${table.name}.${String(file).padStart(9, '0')}.${table.format}`;
      // Every second file is gzip-compressed, as `dumpling --compress gzip` writes them.
      if (file % 2 === 1) fs.writeFileSync(path.join(options.dir, name + '.gz'), zlib.gzipSync(body));
      else fs.writeFileSync(path.join(options.dir, name), body);
    }
  }
  return { schema: options.schema, dir: options.dir, tables };
}

const sqlEscapes: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '\x1a': '\\Z' };

function sqlLiteral(value: FixtureValue, column: number, table: string, binaryLiterals: 'mixed' | 'hex'): Buffer {
  if (value === null) return Buffer.from('NULL');
  if (typeof value === 'number') {
    if (table === 'typed' && column === 8) return Buffer.from(`b'${value.toString(2)}'`);
    return Buffer.from(String(value));
  }
  if (Buffer.isBuffer(value)) {
    // Dumps write binary both ways: hex, and a _binary string holding the raw bytes.
    if (column === 7 || binaryLiterals === 'hex') return Buffer.from(value.length > 0 ? `0x${value.toString('hex').toUpperCase()}` : "X''");
    return Buffer.concat([Buffer.from("_binary '"), escapeBytes(value), Buffer.from("'")]);
  }
  if (/^-?\d+(\.\d+)?$/.test(value) && !(table === 'keyless' && column === 1)) return Buffer.from(value);
  return Buffer.concat([Buffer.from("'"), escapeBytes(Buffer.from(value, 'utf8')), Buffer.from("'")]);
}

function escapeBytes(bytes: Buffer): Buffer {
  const raw = bytes.toString('latin1').replace(/[\0\n\r\\'\x1a]/g, (char) => sqlEscapes[char]);
  return Buffer.from(raw, 'latin1');
}

function sqlFile(table: string, rows: FixtureValue[][], binaryLiterals: 'mixed' | 'hex'): Buffer {
  const parts: Buffer[] = [Buffer.from("/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n")];
  for (let i = 0; i < rows.length; i += 50) {
    parts.push(Buffer.from(`INSERT INTO \`${table}\` VALUES\n`));
    rows.slice(i, i + 50).forEach((row, index, batch) => {
      parts.push(Buffer.from('('), ...row.flatMap((value, column) => (column > 0 ? [Buffer.from(','), sqlLiteral(value, column, table, binaryLiterals)] : [sqlLiteral(value, column, table, binaryLiterals)])));
      parts.push(Buffer.from(index === batch.length - 1 ? ');\n' : '),\n'));
    });
  }
  return Buffer.concat(parts);
}

function csvField(value: FixtureValue): string {
  if (value === null) return '\\N';
  const text = String(value);
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '""')}"`;
}

function csvFile(table: FixtureTable, rows: FixtureValue[][]): Buffer {
  const header = ['id', 'txt', 'amount', 'd', 'n'].map((name) => `"${name}"`).join(',');
  void table;
  return Buffer.from([header, ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n', 'utf8');
}

/** Loads the fixture's values into `schema` through parameterised statements: the expected contents. */
export async function loadReference(connection: Connection, schema: string, fixture: DumpFixture): Promise<void> {
  await connection.query(`CREATE DATABASE \`${schema}\` DEFAULT CHARACTER SET utf8mb4`);
  for (const table of fixture.tables) {
    await connection.query(`CREATE TABLE \`${schema}\`.\`${table.name}\` (${table.columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    for (let i = 0; i < table.rows.length; i += 500) {
      const rows = table.rows.slice(i, i + 500);
      await connection.query(`INSERT INTO \`${schema}\`.\`${table.name}\` VALUES ?`, [rows]);
    }
  }
}
