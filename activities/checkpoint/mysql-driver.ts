import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { quoteName, quoteText } from '../database/sql-text';
import { textOf } from '../database/connection';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { chunkTableDdl, chunkTablesIn, type ChunkTable } from './chunk-table';
import { compressionCode, fromCode, sourceTypeCode, type CheckpointModel, type TableCheckpoint } from './checkpoint-model';

/**
 * Lightning's MySQL checkpoint driver: four tables in the checkpoint schema (LIGHTNING-COMPAT.md §5),
 * with its table and column names and types, so its tools and queries work on what Tempest writes.
 * Returns the chunk table written to: the one already in the schema, else `chunk_v5`.
 */
export async function ensureCheckpointTables(pool: Pool, schema: string): Promise<ChunkTable> {
  const s = quoteName(schema);
  await pool.query(`CREATE DATABASE IF NOT EXISTS ${s}`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${s}.task_v2 (
      id tinyint(1) PRIMARY KEY,
      task_id bigint NOT NULL,
      source_dir varchar(2048) NOT NULL,
      backend varchar(16) NOT NULL,
      importer_addr varchar(256),
      tidb_host varchar(128) NOT NULL,
      tidb_port int NOT NULL,
      pd_addr varchar(128) NOT NULL,
      sorted_kv_dir varchar(256) NOT NULL,
      lightning_ver varchar(48) NOT NULL
    )`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${s}.table_v10 (
      task_id bigint NOT NULL,
      table_name varchar(261) NOT NULL PRIMARY KEY,
      hash binary(32) NOT NULL,
      status tinyint unsigned DEFAULT 30,
      table_id bigint NOT NULL DEFAULT 0,
      table_info longtext NOT NULL,
      create_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
      update_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      kv_bytes bigint unsigned NOT NULL DEFAULT 0,
      kv_kvs bigint unsigned NOT NULL DEFAULT 0,
      kv_checksum bigint unsigned NOT NULL DEFAULT 0,
      auto_rand_base bigint NOT NULL DEFAULT 0,
      auto_incr_base bigint NOT NULL DEFAULT 0,
      auto_row_id_base bigint NOT NULL DEFAULT 0,
      INDEX(task_id)
    )`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${s}.engine_v5 (
      table_name varchar(261) NOT NULL,
      engine_id int NOT NULL,
      status tinyint unsigned DEFAULT 30,
      create_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
      update_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      PRIMARY KEY(table_name, engine_id DESC)
    )`);
  const chunkTable = (await chunkTablesIn(pool, schema))[0] ?? 'chunk_v5';
  await pool.query(chunkTableDdl(s, chunkTable));
  return chunkTable;
}

/** Replaces the schema's checkpoint with `model`, in one transaction. */
export async function writeCheckpointTables(pool: Pool, schema: string, model: CheckpointModel): Promise<void> {
  const chunkTable = await ensureCheckpointTables(pool, schema);
  const s = quoteName(schema);
  const connection = await pool.getConnection();
  try {
    await connection.query('START TRANSACTION');
    for (const table of [chunkTable, 'engine_v5', 'table_v10', 'task_v2']) await connection.query(`DELETE FROM ${s}.${table}`);
    const task = model.task;
    await connection.query(
      `INSERT INTO ${s}.task_v2 (id, task_id, source_dir, backend, importer_addr, tidb_host, tidb_port, pd_addr, sorted_kv_dir, lightning_ver)
       VALUES (1, ${task.taskId}, ${quoteText(task.sourceDir)}, ${quoteText(task.backend)}, '', ${quoteText(task.tidbHost)}, ${task.tidbPort}, '', '', ${quoteText(task.lightningVersion)})`,
    );
    for (const table of model.tables) await insertTable(connection, s, chunkTable, task.taskId, table);
    await connection.query('COMMIT');
    connection.release();
  } catch (error) {
    connection.destroy();
    throw error;
  }
}

/**
 * What Lightning's MySQL driver stores as a table's `hash`: the number of the loaded status (30) as
 * text, padded by BINARY(32). A Lightning run given a checkpoint whose table has another hash
 * refuses it (its INSERT … ON DUPLICATE KEY UPDATE sets task_id to NULL: "Column 'task_id' cannot be null").
 */
const lightningTableHash = `'${CheckpointStatus.loaded}'`;

async function insertTable(connection: PoolConnection, s: string, chunkTable: ChunkTable, taskId: string, table: TableCheckpoint): Promise<void> {
  const name = quoteText(table.key);
  const rows = table.engines.flatMap((engine) => engine.chunks).reduce((sum, chunk) => sum + chunk.rows, 0);
  await connection.query(
    `INSERT INTO ${s}.table_v10 (task_id, table_name, hash, status, table_id, table_info, kv_kvs) VALUES (${taskId}, ${name}, ${lightningTableHash}, ${table.status}, 0, '', ${rows})`,
  );
  for (const engine of table.engines) {
    await connection.query(`INSERT INTO ${s}.engine_v5 (table_name, engine_id, status) VALUES (${name}, ${engine.id}, ${engine.status})`);
    // chunk_v6's real_pos is the position in the file on disk; Tempest's chunks of compressed files
    // are read from their start, so the uncompressed position stands in for it. `columns` is JSON,
    // 'null' for no column permutation, as Lightning marshals it (it cannot read a NULL there).
    const realPos = chunkTable === 'chunk_v6';
    const values = engine.chunks.map(
      (chunk) =>
        `(${name}, ${engine.id}, ${quoteText(chunk.path)}, ${chunk.offset}, ${sourceTypeCode[chunk.type]}, ${compressionCode[chunk.compression]}, ${quoteText(chunk.sortKey)}, ` +
        `${chunk.fileSize}, 'null', FALSE, ${chunk.endOffset}, ${chunk.pos}, ${realPos ? `${chunk.pos}, ` : ''}0, 0, 0, ${chunk.rows}, 0)`,
    );
    for (let i = 0; i < values.length; i += 500) {
      await connection.query(
        `INSERT INTO ${s}.${chunkTable} (table_name, engine_id, path, \`offset\`, type, compression, sort_key, file_size, columns, should_include_row_id,
           end_offset, pos, ${realPos ? 'real_pos, ' : ''}prev_rowid_max, rowid_max, kvc_bytes, kvc_kvs, kvc_checksum) VALUES ${values.slice(i, i + 500).join(', ')}`,
      );
    }
  }
}

/** Reads a checkpoint schema written by Lightning's MySQL driver (or by Tempest). */
export async function readCheckpointTables(pool: Pool, schema: string): Promise<CheckpointModel> {
  const s = quoteName(schema);
  const [tasks] = await pool.query<RowDataPacket[]>(`SELECT CAST(task_id AS CHAR) AS task_id, source_dir, backend, tidb_host, tidb_port, lightning_ver FROM ${s}.task_v2 WHERE id = 1`);
  const [tables] = await pool.query<RowDataPacket[]>(`SELECT table_name, status FROM ${s}.table_v10 ORDER BY table_name`);
  const [engines] = await pool.query<RowDataPacket[]>(`SELECT table_name, engine_id, status FROM ${s}.engine_v5`);
  const chunkTable = (await chunkTablesIn(pool, schema))[0];
  if (chunkTable === undefined) throw new Error(`${schema} has task_v2 but no chunk table (chunk_v5 or chunk_v6)`);
  const [chunks] = await pool.query<RowDataPacket[]>(
    `SELECT table_name, engine_id, path, \`offset\`, type, compression, sort_key, file_size, end_offset, pos, kvc_kvs, UNIX_TIMESTAMP(create_time) AS created FROM ${s}.${chunkTable} ORDER BY table_name, engine_id, path, \`offset\``,
  );
  const task = tasks[0];
  return {
    task: {
      taskId: textOf(task?.task_id) || '0',
      sourceDir: textOf(task?.source_dir),
      backend: textOf(task?.backend),
      tidbHost: textOf(task?.tidb_host),
      tidbPort: Number(task?.tidb_port ?? 0),
      lightningVersion: textOf(task?.lightning_ver),
    },
    tables: tables.map((table) => {
      const key = textOf(table.table_name);
      return {
        key,
        status: Number(table.status),
        engines: engines
          .filter((engine) => textOf(engine.table_name) === key)
          .map((engine) => ({
            id: Number(engine.engine_id),
            status: Number(engine.status),
            chunks: chunks
              .filter((chunk) => textOf(chunk.table_name) === key && Number(chunk.engine_id) === Number(engine.engine_id))
              .map((chunk) => ({
                path: textOf(chunk.path),
                offset: Number(chunk.offset),
                endOffset: Number(chunk.end_offset),
                pos: Number(chunk.pos),
                rows: Number(chunk.kvc_kvs),
                type: fromCode(sourceTypeCode, Number(chunk.type), 'source type'),
                compression: fromCode(compressionCode, Number(chunk.compression), 'compression'),
                fileSize: Number(chunk.file_size),
                timestamp: Number(chunk.created),
                sortKey: textOf(chunk.sort_key),
              })),
          })),
      };
    }),
  };
}
