import type { Pool, RowDataPacket } from 'mysql2/promise';
import { quoteText } from '../database/sql-text';

/**
 * The MySQL driver's chunk table comes in versions: `chunk_v5`, as the Lightning Tempest is tested
 * against writes it, and `chunk_v6`, which adds `real_pos` (the position in the file on disk, for
 * compressed files) and which earlier Tempest builds wrote. Each is read and written as it is.
 */
export type ChunkTable = 'chunk_v5' | 'chunk_v6';

const versions: readonly ChunkTable[] = ['chunk_v6', 'chunk_v5'];

/** The chunk tables the schema holds, newest first. */
export async function chunkTablesIn(pool: Pool, schema: string): Promise<ChunkTable[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteText(schema)} AND TABLE_NAME IN (${versions.map(quoteText).join(', ')})`,
  );
  const present = new Set(rows.map((row) => String(row.name)));
  return versions.filter((version) => present.has(version));
}

export function chunkTableDdl(quotedSchema: string, table: ChunkTable): string {
  return `CREATE TABLE IF NOT EXISTS ${quotedSchema}.${table} (
      table_name varchar(261) NOT NULL,
      engine_id int unsigned NOT NULL,
      path varchar(2048) NOT NULL,
      \`offset\` bigint NOT NULL,
      type int NOT NULL,
      compression int NOT NULL,
      sort_key varchar(256) NOT NULL,
      file_size bigint NOT NULL,
      columns text NULL,
      should_include_row_id BOOL NOT NULL,
      end_offset bigint NOT NULL,
      pos bigint NOT NULL,${table === 'chunk_v6' ? '\n      real_pos bigint NOT NULL,' : ''}
      prev_rowid_max bigint NOT NULL,
      rowid_max bigint NOT NULL,
      kvc_bytes bigint unsigned NOT NULL DEFAULT 0,
      kvc_kvs bigint unsigned NOT NULL DEFAULT 0,
      kvc_checksum bigint unsigned NOT NULL DEFAULT 0,
      create_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
      update_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      PRIMARY KEY(table_name, engine_id, path(500), \`offset\`)
    )`;
}
