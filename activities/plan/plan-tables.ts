import type { Pool, PoolConnection } from 'mysql2/promise';
import { quoteName, quoteText } from '../database/sql-text';

/**
 * Where a task's plan lives: in the task-info schema on the target, beside the chunk progress, so
 * that no workflow carries it. A workflow holds counters and a bounded window; activities page
 * through these tables. Every row is keyed by the task id, so tasks never see each other's plan.
 */
export const planTables = {
  task: 'tempest_task_v1',
  table: 'tempest_table_v1',
  file: 'tempest_file_v1',
  chunk: 'tempest_chunk_plan_v1',
  object: 'tempest_object_v1',
} as const;

export function planTableName(taskInfoSchema: string, table: keyof typeof planTables): string {
  return `${quoteName(taskInfoSchema)}.${quoteName(planTables[table])}`;
}

const definitions: Record<keyof typeof planTables, string> = {
  task: `task_id VARCHAR(128) NOT NULL PRIMARY KEY,
         settings LONGTEXT NOT NULL COMMENT 'the task settings (no secrets), for activities: workflows pass the task id only',
         table_count INT NOT NULL,
         total_bytes BIGINT NOT NULL,
         database_count INT NOT NULL,
         view_count INT NOT NULL,
         create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP`,
  table: `task_id VARCHAR(128) NOT NULL,
          ordinal INT NOT NULL COMMENT 'the table''s place in the plan',
          table_name VARCHAR(261) NOT NULL COMMENT 'Lightning''s table key',
          table_schema VARCHAR(64) NOT NULL,
          table_only VARCHAR(64) NOT NULL,
          schema_files LONGTEXT NOT NULL COMMENT 'JSON: the schema files, the first creates the table',
          schema_sources LONGTEXT NOT NULL COMMENT 'JSON: the source table of each schema file',
          file_count INT NOT NULL,
          total_bytes BIGINT NOT NULL,
          state VARCHAR(16) NOT NULL DEFAULT 'queued' COMMENT 'queued, running, finished, failed or removed',
          status TINYINT UNSIGNED NOT NULL DEFAULT 30 COMMENT 'Lightning''s checkpoint status',
          first TINYINT NOT NULL DEFAULT 0 COMMENT 'starts before the others (its index build overlaps their loading)',
          destroy_first TINYINT NOT NULL DEFAULT 0,
          claim VARCHAR(160) NULL COMMENT 'the workflow step that started it: a retried claim returns the same tables',
          row_count BIGINT NOT NULL DEFAULT 0,
          done_bytes BIGINT NOT NULL DEFAULT 0,
          chunk_count INT NOT NULL DEFAULT 0,
          engine_count INT NOT NULL DEFAULT 0,
          failure LONGTEXT NULL COMMENT 'JSON: why it failed (names the file and offset, never row data)',
          verify LONGTEXT NULL COMMENT 'JSON: how it was verified',
          update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (task_id, ordinal),
          UNIQUE KEY table_key (task_id, table_name),
          KEY next_table (task_id, state, first, ordinal),
          KEY table_claim (task_id, claim)`,
  file: `task_id VARCHAR(128) NOT NULL,
         table_ordinal INT NOT NULL,
         file_ordinal INT NOT NULL,
         path VARCHAR(2048) NOT NULL,
         type VARCHAR(8) NOT NULL,
         compression VARCHAR(8) NOT NULL,
         size BIGINT NOT NULL,
         mtime_ms DOUBLE NOT NULL,
         boundaries LONGTEXT NULL COMMENT 'JSON: chunk cuts of a Lightning checkpoint taken over',
         PRIMARY KEY (task_id, table_ordinal, file_ordinal)`,
  chunk: `task_id VARCHAR(128) NOT NULL,
          table_ordinal INT NOT NULL,
          chunk_ordinal INT NOT NULL,
          engine_id INT NOT NULL,
          group_ordinal INT NOT NULL COMMENT 'chunks of one group are imported by one activity, one after the other',
          path VARCHAR(2048) NOT NULL,
          type VARCHAR(8) NOT NULL,
          compression VARCHAR(8) NOT NULL,
          \`offset\` BIGINT NOT NULL,
          end_offset BIGINT NOT NULL,
          file_size BIGINT NOT NULL,
          mtime_ms DOUBLE NOT NULL,
          disk_bytes BIGINT NOT NULL,
          columns LONGTEXT NULL,
          PRIMARY KEY (task_id, table_ordinal, chunk_ordinal),
          KEY engine_group (task_id, table_ordinal, engine_id, group_ordinal)`,
  object: `task_id VARCHAR(128) NOT NULL,
           kind VARCHAR(8) NOT NULL COMMENT 'database or view',
           ordinal INT NOT NULL,
           object_schema VARCHAR(64) NOT NULL,
           object_name VARCHAR(64) NOT NULL,
           schema_file VARCHAR(2048) NULL,
           PRIMARY KEY (task_id, kind, ordinal)`,
};

export async function ensurePlanTables(pool: Pool, taskInfoSchema: string): Promise<void> {
  await pool.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(taskInfoSchema)}`);
  for (const table of Object.keys(planTables) as Array<keyof typeof planTables>) {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${planTableName(taskInfoSchema, table)} (${definitions[table]}) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`);
  }
}

/** Forgets the whole plan of a task (once it finished, or when it is removed). */
export async function deleteTaskPlan(pool: Pool, taskInfoSchema: string, taskId: string): Promise<void> {
  for (const table of Object.keys(planTables) as Array<keyof typeof planTables>) {
    await pool.query(`DELETE FROM ${planTableName(taskInfoSchema, table)} WHERE task_id = ${quoteText(taskId)}`).catch((error: { errno?: number }) => {
      if (error.errno !== 1146) throw error;
    });
  }
}

/**
 * Runs `work` in one transaction, committed when it returns and rolled back when it throws. Read
 * committed: no gap locks, so tables planned, claimed or recorded at once do not deadlock.
 */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await connection.query('START TRANSACTION');
    const result = await work(connection);
    await connection.query('COMMIT');
    return result;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}
