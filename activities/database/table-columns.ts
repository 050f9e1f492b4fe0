import type { Pool, RowDataPacket } from 'mysql2/promise';
import { textOf } from './connection';
import { quoteText } from './sql-text';

export interface TargetColumn {
  name: string;
  /** information_schema DATA_TYPE, lower case: `int`, `varchar`, `decimal`, … */
  dataType: string;
  /** The full type, e.g. `int(10) unsigned`, `binary(16)`, `enum('a','b')`. */
  columnType: string;
  numericScale: number | null;
  datetimePrecision: number | null;
  octetLength: number | null;
  /** Generated columns take no value from the source. */
  generated: boolean;
  /** The column may hold NULL (information_schema IS_NULLABLE). */
  nullable: boolean;
}

/** The target table's columns in table order; empty when the table does not exist. */
export async function readTargetColumns(pool: Pool, schema: string, table: string): Promise<TargetColumn[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_OCTET_LENGTH, EXTRA, GENERATION_EXPRESSION, IS_NULLABLE
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ${quoteText(schema)} AND TABLE_NAME = ${quoteText(table)}
      ORDER BY ORDINAL_POSITION`,
  );
  return rows.map((row) => ({
    name: textOf(row.COLUMN_NAME),
    dataType: textOf(row.DATA_TYPE).toLowerCase(),
    columnType: textOf(row.COLUMN_TYPE).toLowerCase(),
    numericScale: row.NUMERIC_SCALE === null ? null : Number(row.NUMERIC_SCALE),
    datetimePrecision: row.DATETIME_PRECISION === null ? null : Number(row.DATETIME_PRECISION),
    octetLength: row.CHARACTER_OCTET_LENGTH === null ? null : Number(row.CHARACTER_OCTET_LENGTH),
    // Only columns every server has: MariaDB's IS_GENERATED is not in TiDB's or MySQL's
    // information_schema. GENERATION_EXPRESSION is NULL (MariaDB) or empty (MySQL, TiDB) for a
    // plain column; EXTRA names the kind of a generated one on all three.
    generated: textOf(row.GENERATION_EXPRESSION) !== '' || /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(textOf(row.EXTRA)),
    nullable: textOf(row.IS_NULLABLE).toUpperCase() === 'YES',
  }));
}
