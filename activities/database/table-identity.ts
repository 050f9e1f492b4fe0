import type { Pool, RowDataPacket } from 'mysql2/promise';
import { textOf } from './connection';
import { quoteText } from './sql-text';

/** The table's creation time, which a table dropped and created again changes; undefined when it does not exist. */
export async function readTableIdentityIfExists(pool: Pool, schema: string, name: string): Promise<string | undefined> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT CAST(CREATE_TIME AS CHAR) AS created FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteText(schema)} AND TABLE_NAME = ${quoteText(name)}`,
  );
  return rows.length === 0 ? undefined : textOf(rows[0].created);
}
