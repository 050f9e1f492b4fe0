import fs from 'node:fs/promises';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { parseMysqlDsn } from '../../activities/checkpoint/mysql-dsn';
import { readCheckpointFileIfPresent, takeOverRefusal } from '../../activities/checkpoint/take-over';
import { createTargetPool, textOf } from '../../activities/database/connection';
import { quoteName } from '../../activities/database/sql-text';
import type { Config } from '../config/schema';
import { taskSettingsOf, targetSettingsOf } from '../task-settings';

/**
 * The tables a Lightning checkpoint in the store lists, which the task will take over (their rows
 * in the target are the checkpoint's to account for, which the task's own precheck does once the
 * take-over has recorded them); empty when there is none, or one the task would refuse.
 */
export async function checkpointTableKeys(config: Config): Promise<Set<string>> {
  const { checkpoint } = config;
  if (!checkpoint.enable) return new Set();
  const sourceDir = config.mydumper['data-source-dir'];
  if (checkpoint.driver === 'file') {
    const file = taskSettingsOf(config).checkpoint.file;
    const model = await readCheckpointFileIfPresent(file).catch(() => undefined);
    if (!model || takeOverRefusal(model.task, sourceDir, 'file', file)) return new Set();
    return new Set(model.tables.map((table) => table.key));
  }
  const dsn = checkpoint.dsn ? parseMysqlDsn(checkpoint.dsn) : undefined;
  if (checkpoint.dsn && !dsn) return new Set();
  const pool = createTargetPool({ ...targetSettingsOf(config), ...dsn }, 1);
  try {
    const schema = quoteName(checkpoint.schema);
    const [tasks] = await pool.query<RowDataPacket[]>(`SELECT source_dir, backend FROM ${schema}.task_v2 LIMIT 1`);
    if (tasks.length === 0) return new Set();
    if (takeOverRefusal({ sourceDir: textOf(tasks[0].source_dir), backend: textOf(tasks[0].backend) }, sourceDir, 'mysql', `schema ${checkpoint.schema}`)) return new Set();
    const [tables] = await pool.query<RowDataPacket[]>(`SELECT table_name FROM ${schema}.table_v10`);
    return new Set(tables.map((row) => textOf(row.table_name)));
  } catch {
    return new Set(); // no checkpoint there (or its server is down, which checkCheckpointStore reports)
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** MySQL errors that mean "no checkpoint there yet": the schema or its task table does not exist. */
const noCheckpointYet = new Set([1049, 1146]);

/**
 * The checkpoint store can be written, and holds no checkpoint of another import (which the task
 * would refuse once started). The file driver's folder must exist; the MySQL driver's server must answer.
 */
export async function checkCheckpointStore(config: Config): Promise<string | undefined> {
  const { checkpoint } = config;
  if (!checkpoint.enable) return undefined;
  const sourceDir = config.mydumper['data-source-dir'];
  if (checkpoint.driver === 'file') {
    const file = taskSettingsOf(config).checkpoint.file;
    const writable = await fs.access(path.dirname(file), fs.constants.W_OK).then(
      () => true,
      () => false,
    );
    if (!writable) return `[checkpoint] dsn: the folder of ${file} does not exist or cannot be written: create it, or point dsn elsewhere`;
    const model = await readCheckpointFileIfPresent(file).catch((error: Error) => error);
    if (model instanceof Error) return model.message;
    return model ? takeOverRefusal(model.task, sourceDir, 'file', file) : undefined;
  }
  const dsn = checkpoint.dsn ? parseMysqlDsn(checkpoint.dsn) : undefined;
  if (checkpoint.dsn && !dsn) return '[checkpoint] dsn: write it as user:password@tcp(host:port)/';
  const settings = { ...targetSettingsOf(config), ...dsn };
  const pool = createTargetPool(settings, 1);
  try {
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT source_dir, backend FROM ${quoteName(checkpoint.schema)}.task_v2 LIMIT 1`);
    if (rows.length === 0) return undefined;
    return takeOverRefusal({ sourceDir: textOf(rows[0].source_dir), backend: textOf(rows[0].backend) }, sourceDir, 'mysql', `schema ${checkpoint.schema}`);
  } catch (error) {
    if (noCheckpointYet.has((error as { errno?: number }).errno ?? -1)) return undefined;
    // On the target itself, the target's own check reports a connection problem once.
    if (!dsn) return undefined;
    return `[checkpoint] dsn: the checkpoint server ${settings.host}:${settings.port} cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check that it runs and the dsn`;
  } finally {
    await pool.end().catch(() => undefined);
  }
}
