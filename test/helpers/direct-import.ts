import crypto from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { importChunk } from '../../activities/import-chunk';
import { planChunks } from '../../activities/source/plan-chunks';
import { planSource } from '../../activities/source/plan-source';
import { deleteTaskProgress, ensureProgressTable } from '../../activities/database/chunk-progress';
import { createTargetPool } from '../../activities/database/connection';
import { addDeferredIndexes, deferSecondaryIndexes, ensureDeferredIndexTable, forgetTaskDeferredIndexes } from '../../activities/database/deferred-indexes';
import { precheckTargetTables } from '../../activities/database/precheck';
import { restoreDatabase, restoreTable } from '../../activities/database/restore-schema';
import { verifyTable } from '../../activities/database/verify-table';
import type { ChunkHeartbeat, ChunkPlan, SourcePlan, TaskSettings, VerifyResult } from '../../activities/task-types';
import { loadConfig } from '../../client/config/load';
import { targetSettingsOf, taskSettingsOf } from '../../client/task-settings';
import { writeConfig, type ImportConfigOptions } from './import-harness';

/**
 * An import through the activities themselves, in the order the workflows call them, without
 * Temporal: a fraction of a second per small dump, so a test can afford one import per option.
 * (The workflows add durability and scheduling; tests of those go through a real Temporal.)
 */

export interface DirectTableOutcome {
  key: string;
  chunks: ChunkPlan[];
  rows: number;
  verify: VerifyResult;
}

export interface DirectImportOutcome {
  settings: TaskSettings;
  plan: SourcePlan;
  tables: DirectTableOutcome[];
}

/** Settings of a tidb-lightning.toml, as the workflow receives them, with a task id of their own. */
export function settingsOfConfig(configPath: string): TaskSettings {
  return { ...taskSettingsOf(loadConfig(configPath)), taskId: `direct-${crypto.randomBytes(6).toString('hex')}` };
}

/** A target pool as the worker makes it (binary character set, the config's sql-mode). */
export function poolOfConfig(configPath: string, connections = 6): Pool {
  return createTargetPool(targetSettingsOf(loadConfig(configPath)), connections);
}

/** What a chunk activity sees of Temporal: its heartbeats, and the signal that stops it. */
export interface DirectChunkContext {
  heartbeat?: (details: ChunkHeartbeat) => void;
  signal?: AbortSignal;
}

/** A tidb-lightning.toml for an import without Temporal: its `[temporal]` section is never used. */
export function writeDirectConfig(dir: string, options: Omit<ImportConfigOptions, 'temporalAddress' | 'taskQueue'>): string {
  return writeConfig(dir, { ...options, temporalAddress: '127.0.0.1:1', taskQueue: 'unused' });
}

/** importDirectly with a config file's settings, on a pool of its own (closed afterwards). */
export async function importConfigDirectly(configPath: string): Promise<DirectImportOutcome> {
  const pool = poolOfConfig(configPath);
  try {
    return await importDirectly(pool, settingsOfConfig(configPath));
  } finally {
    await pool.end();
  }
}

/**
 * Plans, restores schemas (deferring indexes), prechecks, imports every chunk (region-concurrency of
 * them at once), verifies each table and adds its deferred indexes back.
 */
export async function importDirectly(pool: Pool, settings: TaskSettings, chunkContext: DirectChunkContext = {}): Promise<DirectImportOutcome> {
  const plan = await planSource(settings);
  await ensureProgressTable(pool, settings.taskInfoSchema);
  await ensureDeferredIndexTable(pool, settings.taskInfoSchema);
  if (!settings.noSchema) {
    for (const database of plan.databases) await restoreDatabase(pool, database);
    const created = [];
    for (const table of plan.tables) if ((await restoreTable(pool, table)) === 'created') created.push(table);
    if (settings.deferIndexes) for (const table of created) await deferSecondaryIndexes(pool, settings, table);
  }
  await precheckTargetTables(pool, { taskId: settings.taskId, taskInfoSchema: settings.taskInfoSchema, tables: plan.tables }, () => undefined);
  const tables: DirectTableOutcome[] = [];
  for (const table of plan.tables) {
    const chunks = await planChunks(settings, table.dataFiles);
    const tableRef = { key: table.key, schema: table.schema, name: table.name };
    const context = { pool, heartbeat: chunkContext.heartbeat ?? (() => undefined), signal: chunkContext.signal ?? new AbortController().signal };
    let rows = 0;
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        const result = await importChunk(context, { settings, table: tableRef, chunk });
        rows += result.rows;
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.regionConcurrency, chunks.length) }, lane));
    const verify = await verifyTable(pool, { settings, table: tableRef });
    if (settings.deferIndexes) await addDeferredIndexes(pool, settings, tableRef);
    tables.push({ key: table.key, chunks, rows, verify });
  }
  await deleteTaskProgress(pool, settings.taskInfoSchema, settings.taskId);
  await forgetTaskDeferredIndexes(pool, settings);
  return { settings, plan, tables };
}
