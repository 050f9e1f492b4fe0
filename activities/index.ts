import { Context } from '@temporalio/activity';
import type { Pool } from 'mysql2/promise';
import { finishCheckpoint, keepCheckpointCurrent, type CheckpointDependencies, type CheckpointInput } from './checkpoint/keep-checkpoint';
import { takeOverCheckpoint, type TakeOverSummary } from './checkpoint/take-over';
import { toActivityFailure } from './failures';
import { importChunk as importChunkRows } from './import-chunk';
import { planChunks, type ChunkBoundaries } from './source/plan-chunks';
import { planSource as planSourceFiles } from './source/plan-source';
import { deleteTableProgress, deleteTaskProgress, ensureProgressTable } from './target/chunk-progress';
import { destroyTargetTable } from './target/destroy-table';
import { precheckTargetTables, type PrecheckInput } from './target/precheck';
import { restoreDatabase, restoreTable, restoreView } from './target/restore-schema';
import { qualifiedName } from './target/sql-text';
import { verifyTable as verifyTableContents, type VerifyInput } from './target/verify-table';
import type { ChunkInput, ChunkPlan, ChunkResult, DatabasePlan, SourcePlan, TablePlan, TaskSettings, VerifyResult, ViewPlan } from './task-types';

export interface ActivityDependencies extends CheckpointDependencies {
  /** The target, with the worker's own credentials. */
  pool: Pool;
}

/**
 * Every side effect of an import, as activities. Each is a small function over the worker's target
 * pool; the logic lives in `source/` and `target/` and is testable without Temporal.
 */
export function createActivities(deps: ActivityDependencies) {
  const { pool } = deps;
  const heartbeat = (details?: unknown) => Context.current().heartbeat(details);
  return sanitized({
    async planSource(settings: TaskSettings): Promise<SourcePlan> {
      return planSourceFiles(settings);
    },

    async prepareTarget(settings: TaskSettings): Promise<void> {
      await ensureProgressTable(pool, settings.taskInfoSchema);
    },

    async restoreSchemas(input: { databases: DatabasePlan[]; tables: TablePlan[] }): Promise<void> {
      for (const database of input.databases) {
        heartbeat();
        await restoreDatabase(pool, database);
      }
      for (const table of input.tables) {
        heartbeat();
        await restoreTable(pool, table);
      }
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
      const timer = setInterval(() => heartbeat(), 5_000);
      try {
        return await verifyTableContents(pool, input);
      } finally {
        clearInterval(timer);
      }
    },

    async analyzeTable(input: { table: { schema: string; name: string } }): Promise<void> {
      const timer = setInterval(() => heartbeat(), 5_000);
      try {
        await pool.query(`ANALYZE TABLE ${qualifiedName(input.table.schema, input.table.name)}`);
      } finally {
        clearInterval(timer);
      }
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

    async forgetTableProgress(input: { settings: TaskSettings; tableKey: string }): Promise<void> {
      await deleteTableProgress(pool, input.settings.taskInfoSchema, input.settings.taskId, input.tableKey);
    },

    async takeOverCheckpoint(input: { settings: TaskSettings; tables: TablePlan[] }): Promise<TakeOverSummary | undefined> {
      return takeOverCheckpoint(deps, input.settings, input.tables);
    },

    async keepCheckpoint(input: CheckpointInput): Promise<void> {
      const context = Context.current();
      await keepCheckpointCurrent(deps, input, () => context.heartbeat(), context.cancellationSignal);
    },

    async finishCheckpoint(input: CheckpointInput): Promise<void> {
      await finishCheckpoint(deps, input);
    },

    async forgetTaskProgress(settings: TaskSettings): Promise<void> {
      await deleteTaskProgress(pool, settings.taskInfoSchema, settings.taskId);
    },
  });
}

/** Every activity's errors pass through `toActivityFailure` before Temporal records them. */
function sanitized<T extends Record<string, (input: never) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, (input: never) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (input) => {
      try {
        return await activity(input);
      } catch (error) {
        throw toActivityFailure(error);
      }
    };
  }
  return wrapped as T;
}

export type Activities = ReturnType<typeof createActivities>;
