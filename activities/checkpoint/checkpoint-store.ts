import fs from 'node:fs/promises';
import type { Pool } from 'mysql2/promise';
import { quoteName } from '../database/sql-text';
import type { CheckpointSettings } from '../task-types';
import type { CheckpointModel } from './checkpoint-model';
import { writeCheckpointFile } from './file-driver';
import { chunkTablesIn } from './chunk-table';
import { writeCheckpointTables } from './mysql-driver';

type KeepAfterSuccess = CheckpointSettings['keepAfterSuccess'];

/** Where a checkpoint snapshot goes: Lightning's file driver, or its MySQL driver. */
export type CheckpointStore = { driver: 'file'; path: string } | { driver: 'mysql'; pool: Pool; schema: string };

export function saveCheckpoint(store: CheckpointStore, model: CheckpointModel): Promise<void> {
  return store.driver === 'file' ? writeCheckpointFile(store.path, model) : writeCheckpointTables(store.pool, store.schema, model);
}

/** Whether `keep-after-success` leaves the last snapshot somewhere (as it is, or renamed). */
export function keepsSnapshot(keep: KeepAfterSuccess): boolean {
  return keep === true || keep === 'origin' || keep === 'rename';
}

/**
 * `[checkpoint] keep-after-success`: keep the snapshot (`origin`, or true), remove it (`remove`, or
 * false), or set it aside under a name carrying the task id (`rename`).
 */
export async function settleCheckpointAfterSuccess(store: CheckpointStore, keep: KeepAfterSuccess, taskId: string): Promise<void> {
  if (keep === true || keep === 'origin') return;
  if (store.driver === 'file') {
    if (keep === 'rename') await fs.rename(store.path, `${store.path}.${taskId}.bak`);
    else await fs.rm(store.path, { force: true });
    return;
  }
  const schema = quoteName(store.schema);
  if (keep === 'rename') {
    const renamed = quoteName(`${store.schema}.${taskId}.bak`);
    await store.pool.query(`CREATE DATABASE IF NOT EXISTS ${renamed}`);
    for (const table of ['task_v2', 'table_v10', 'engine_v5', ...(await chunkTablesIn(store.pool, store.schema))]) await store.pool.query(`RENAME TABLE ${schema}.${table} TO ${renamed}.${table}`);
  }
  await store.pool.query(`DROP DATABASE IF EXISTS ${schema}`);
}
