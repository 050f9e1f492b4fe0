import { Context } from '@temporalio/activity';
import { finishCheckpoint, keepCheckpointCurrent, type CheckpointInput } from './checkpoint/keep-checkpoint';
import { takeOverCheckpoint, type TakeOverSummary } from './checkpoint/take-over';
import { heartbeat, heartbeating } from './heartbeat';
import type { ActivityDependencies } from './index';
import { importChunk as importChunkRows } from './import-chunk';
import { planChunks, type ChunkBoundaries } from './source/plan-chunks';
import { planSource as planSourceFiles } from './source/plan-source';
import { deleteTableProgress, deleteTaskProgress, ensureProgressTable } from './database/chunk-progress';
import {
  addBackBeforeRemove,
  addBackTaskDeferredIndexes,
  addDeferredIndexes as addBackDeferredIndexes,
  deferSecondaryIndexes,
  ensureDeferredIndexTable,
  forgetTaskDeferredIndexes,
} from './database/deferred-indexes';
import { destroyTargetTable } from './database/destroy-table';
import { precheckTargetTables, type PrecheckInput } from './database/precheck';
import { restoreDatabase, restoreTable, restoreView } from './database/restore-schema';
import { qualifiedName } from './database/sql-text';
import { verifyTable as verifyTableContents, type VerifyInput } from './database/verify-table';
import type { ChunkInput, ChunkPlan, ChunkResult, DatabasePlan, SourcePlan, TablePlan, TaskSettings, VerifyResult, ViewPlan } from './task-types';

/**
 * The activities of Tempest 0.1's workflows (workflows/legacy/), with the inputs those send: a task
 * it started finishes on this release. New tasks use those of ./index.ts.
 */
export function createRelease01Activities(deps: ActivityDependencies) {
  const { pool } = deps;
  return {
    async planSource(settings: TaskSettings): Promise<SourcePlan> {
      return planSourceFiles(settings);
    },

    async prepareTarget(settings: TaskSettings): Promise<void> {
      await ensureProgressTable(pool, settings.taskInfoSchema);
      await ensureDeferredIndexTable(pool, settings.taskInfoSchema);
    },

    /** `settings` is absent in tasks started before add-index-by-sql: nothing is deferred. */
    /** Returns the keys of the tables whose indexes wait for their rows. */
    async restoreSchemas(input: { databases: DatabasePlan[]; tables: TablePlan[]; settings?: TaskSettings }): Promise<string[]> {
      for (const database of input.databases) {
        heartbeat();
        await restoreDatabase(pool, database);
      }
      const created: TablePlan[] = [];
      for (const table of input.tables) {
        heartbeat();
        if ((await restoreTable(pool, table)) === 'created') created.push(table);
      }
      // Once every table exists, so that a foreign key from a table created later is seen. A retry
      // finds the tables existing and defers nothing more; the end step repairs what it left.
      const deferred: string[] = [];
      if (!input.settings?.deferIndexes) return deferred;
      for (const table of created) {
        heartbeat();
        if ((await deferSecondaryIndexes(pool, input.settings, table)).length > 0) deferred.push(table.key);
      }
      return deferred;
    },

    async precheckTables(input: PrecheckInput): Promise<void> {
      await precheckTargetTables(pool, input, () => heartbeat());
    },

    async planTableChunks(input: { settings: TaskSettings; table: TablePlan; boundaries?: ChunkBoundaries }): Promise<ChunkPlan[]> {
      return planChunks(input.settings, input.table.dataFiles, input.boundaries);
    },

    async importChunk(input: ChunkInput): Promise<ChunkResult> {
      const context = Context.current();
      return importChunkRows({ pool, heartbeat: (details) => context.heartbeat(details), signal: context.cancellationSignal }, input);
    },

    async verifyTable(input: VerifyInput): Promise<VerifyResult> {
      return heartbeating(() => verifyTableContents(pool, input));
    },

    /** The secondary indexes deferred while loading, added back; returns the names added. */
    async addDeferredIndexes(input: { settings: TaskSettings; table: { key: string; schema: string; name: string } }): Promise<string[]> {
      return heartbeating(() => addBackDeferredIndexes(pool, input.settings, input.table));
    },

    async analyzeTable(input: { table: { schema: string; name: string } }): Promise<void> {
      await heartbeating(() => pool.query(`ANALYZE TABLE ${qualifiedName(input.table.schema, input.table.name)}`));
    },

    async restoreViews(input: { views: ViewPlan[] }): Promise<void> {
      for (const view of input.views) {
        heartbeat();
        await restoreView(pool, view);
      }
    },

    async destroyTable(input: { settings: TaskSettings; table: TablePlan }): Promise<void> {
      await destroyTargetTable(pool, input.settings, input.table);
    },

    /** `--checkpoint-remove`: the table leaves the task but stays in the target, with its indexes. */
    async forgetTableProgress(input: { settings: TaskSettings; tableKey: string }): Promise<void> {
      await heartbeating(() => addBackBeforeRemove(pool, input.settings, input.tableKey));
      await deleteTableProgress(pool, input.settings.taskInfoSchema, input.settings.taskId, input.tableKey);
    },

    async takeOverCheckpoint(input: { settings: TaskSettings; tables: TablePlan[] }): Promise<TakeOverSummary | undefined> {
      return takeOverCheckpoint(deps, input.settings, async (key) => input.tables.find((table) => table.key === key));
    },

    async keepCheckpoint(input: CheckpointInput): Promise<void> {
      const context = Context.current();
      await keepCheckpointCurrent(deps, input, () => context.heartbeat(), context.cancellationSignal);
    },

    async finishCheckpoint(input: CheckpointInput): Promise<void> {
      await finishCheckpoint(deps, input);
    },

    async forgetTaskProgress(settings: TaskSettings): Promise<void> {
      await heartbeating(() => addBackTaskDeferredIndexes(pool, settings));
      await deleteTaskProgress(pool, settings.taskInfoSchema, settings.taskId);
      await forgetTaskDeferredIndexes(pool, settings);
    },
  };
}
