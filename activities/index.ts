import { Context } from '@temporalio/activity';
import type { Pool } from 'mysql2/promise';
import type { ImportTaskResult, TakenOver } from '../workflows/definitions';
import { finishStoredCheckpoint, keepStoredCheckpointCurrent, type CheckpointDependencies } from './checkpoint/keep-checkpoint';
import { takeOverCheckpoint } from './checkpoint/take-over';
import { ensureProgressTable, readTableProgressTotals } from './database/chunk-progress';
import { createSchemas as createTaskSchemas } from './database/create-schemas';
import { ensureDeferredIndexTable } from './database/deferred-indexes';
import { precheckPlannedTables } from './database/precheck';
import { restoreView } from './database/restore-schema';
import { toActivityFailure } from './failures';
import { ProgressClock } from './give-up';
import { heartbeat, heartbeating } from './heartbeat';
import type { ChunkContext } from './import-chunk';
import { createRelease01Activities } from './release-01-activities';
import { finishTaskRecords } from './finish-task';
import { ensurePlanTables } from './plan/plan-tables';
import { storeSourcePlan, type PlanSummary } from './plan/store-plan';
import { claimTables, recordTableOutcome, readTableRecords, type TableOutcome, type TableSlots } from './plan/table-queue';
import { loadTaskSettings, readTableHead, readTablePlan, readViews, storeFileBoundaries, type TableHead } from './plan/task-plan';
import { planSource } from './source/plan-source';
import { destroyTable, finishTableRows, importChunkGroup, importSmallTables, planTableChunks, type GroupResult, type SmallTableResult } from './table-steps';
import type { TableChunkSummary } from './plan/chunk-plan';
import type { ChunkHeartbeat, TaskRef, TaskSettings, VerifyResult } from './task-types';

export interface ActivityDependencies extends CheckpointDependencies {
  /** The target, with the worker's own credentials. */
  pool: Pool;
}

/** The activities that write rows: they run on the chunk task queue, at most region-concurrency at once per worker. */
export const chunkActivityNames = ['importChunk', 'importChunkGroup', 'importSmallTables'] as const;

/**
 * Every side effect of an import, as activities. Each is a small function over the worker's target
 * pool; the logic lives in `plan/`, `source/` and `database/` and is testable without Temporal.
 * Workflows pass a task's id (TaskRef), never its settings: activities read them from the stored plan.
 */
export function createActivities(deps: ActivityDependencies) {
  const { pool } = deps;
  const settingsOf = (task: TaskRef) => loadTaskSettings(pool, task);
  const headOf = async (task: TaskRef, ordinal: number): Promise<TableHead> => {
    const head = await readTableHead(pool, task, { ordinal });
    if (!head) throw new Error(`table ${ordinal} of task ${task.taskId} is not in its stored plan`);
    return head;
  };
  /** What rows are written with: heartbeats stamped with the moment rows last moved (for give-up-after). */
  const chunkContext = (clock: ProgressClock, onBeat: (beat: ChunkHeartbeat) => ChunkHeartbeat = (beat) => beat): ChunkContext => {
    const context = Context.current();
    return { pool, heartbeat: (beat) => context.heartbeat(clock.stamp(onBeat(beat))), signal: context.cancellationSignal, tableFacts: new Map() };
  };
  /** Runs an activity that writes rows, giving up per `[temporal] give-up-after`. */
  const writingRows = async <T>(settings: TaskSettings, work: (clock: ProgressClock) => Promise<T>): Promise<T> => {
    const clock = new ProgressClock(settings.giveUpAfter, Context.current().info);
    try {
      return await work(clock);
    } catch (error) {
      throw clock.verdict(error);
    }
  };
  return sanitized({
    ...createRelease01Activities(deps),

    /** Scans the dump and stores the plan on the target (once: a retry finds it stored). */
    async planTask(settings: TaskSettings): Promise<PlanSummary> {
      await ensurePlanTables(pool, settings.taskInfoSchema);
      await ensureProgressTable(pool, settings.taskInfoSchema);
      await ensureDeferredIndexTable(pool, settings.taskInfoSchema);
      return storeSourcePlan(pool, settings, await planSource(settings));
    },

    async takeOverLightningCheckpoint(task: TaskRef): Promise<TakenOver | undefined> {
      const settings = await settingsOf(task);
      const summary = await takeOverCheckpoint(deps, settings, async (key) => {
        const head = await readTableHead(pool, task, { key });
        return head ? (await readTablePlan(pool, settings, head)).plan : undefined;
      });
      if (!summary) return undefined;
      for (const [path, cuts] of Object.entries(summary.chunkBoundaries)) {
        const head = await readTableHead(pool, task, { key: summary.tableOfPath[path] });
        if (head) await storeFileBoundaries(pool, task, head.ordinal, path, cuts);
      }
      return { source: summary.source, tables: summary.tables, chunks: summary.chunks, rows: summary.rows };
    },

    async createSchemas(task: TaskRef): Promise<{ created: number; deferred: number }> {
      const settings = await settingsOf(task);
      return createTaskSchemas(pool, settings, Math.max(1, settings.regionConcurrency), () => heartbeat());
    },

    async checkTables(task: TaskRef): Promise<void> {
      await precheckPlannedTables(pool, await settingsOf(task), () => heartbeat());
    },

    async claimTables(input: { task: TaskRef; claim: string; slots: number }): Promise<TableSlots> {
      return claimTables(pool, input.task, input.claim, input.slots);
    },

    /** The first failed tables, for the operator. */
    async readFailedTables(input: { task: TaskRef; limit: number }) {
      const records = await readTableRecords(pool, input.task, `state = 'failed'`, -1, input.limit);
      return records.map((record) => ({ key: record.key, status: record.status, failure: record.failure }));
    },

    async createViews(task: TaskRef): Promise<void> {
      for (const view of await readViews(pool, await settingsOf(task))) {
        heartbeat();
        await restoreView(pool, view);
      }
    },

    async planTable(input: { task: TaskRef; ordinal: number; destroyFirst: boolean }): Promise<TableChunkSummary> {
      const settings = await settingsOf(input.task);
      const head = await headOf(input.task, input.ordinal);
      if (input.destroyFirst) await destroyTable(pool, settings, head);
      const [summary] = await planTableChunks(pool, settings, [{ head, destroyFirst: input.destroyFirst }]);
      await recordTableOutcome(pool, input.task, input.ordinal, { state: 'running', status: 30, rows: 0, doneBytes: 0, chunks: summary.chunks, engines: summary.engineGroups.length });
      return summary;
    },

    /** Imports one group of an engine's chunks, heartbeating the group's committed progress. */
    async importChunkGroup(input: { task: TaskRef; ordinal: number; engineId: number; group: number }): Promise<GroupResult> {
      const settings = await settingsOf(input.task);
      const head = await headOf(input.task, input.ordinal);
      const before = { rows: 0, diskBytes: 0 };
      return writingRows(settings, (clock) => {
        const context = chunkContext(clock, (beat) => ({ ...beat, rows: before.rows + beat.rows, diskBytes: before.diskBytes + beat.diskBytes }));
        return importChunkGroup(context, settings, head, { engineId: input.engineId, group: input.group }, (done) => Object.assign(before, done));
      });
    },

    /** Small tables from start to end, one after the other: one activity for many tables. */
    async importSmallTables(input: { task: TaskRef; tables: Array<{ ordinal: number; destroyFirst: boolean }> }): Promise<SmallTableResult[]> {
      const settings = await settingsOf(input.task);
      const tables = await Promise.all(input.tables.map(async (table) => ({ head: await headOf(input.task, table.ordinal), destroyFirst: table.destroyFirst })));
      // Heartbeats count the whole group's committed progress, and name the group by its first table.
      const before = { rows: 0, diskBytes: 0 };
      const group = tables[0]?.head.key;
      return writingRows(settings, (clock) => {
        const context = chunkContext(clock, (beat) => ({ ...beat, table: group, rows: before.rows + beat.rows, diskBytes: before.diskBytes + beat.diskBytes }));
        return importSmallTables(context, settings, tables, (rowsIn) => {
          before.rows += rowsIn.rows;
          before.diskBytes += rowsIn.bytes;
        });
      });
    },

    async finishTable(input: { task: TaskRef; ordinal: number }): Promise<{ status: number; verify?: VerifyResult }> {
      const settings = await settingsOf(input.task);
      return heartbeating(async () => finishTableRows(pool, settings, await headOf(input.task, input.ordinal)));
    },

    /** Where a table stands; a failed one's rows are those committed. */
    async recordTable(input: { task: TaskRef; ordinal: number; outcome: TableOutcome }): Promise<void> {
      const outcome = { ...input.outcome };
      if (outcome.state === 'failed') {
        const head = await headOf(input.task, input.ordinal);
        outcome.rows = (await readTableProgressTotals(pool, input.task.taskInfoSchema, input.task.taskId, head.key)).rows;
      }
      await recordTableOutcome(pool, input.task, input.ordinal, outcome);
    },

    async keepSnapshot(task: TaskRef): Promise<void> {
      const context = Context.current();
      await keepStoredCheckpointCurrent(deps, task, () => context.heartbeat(), context.cancellationSignal);
    },

    async finishSnapshot(task: TaskRef): Promise<void> {
      await finishStoredCheckpoint(deps, task);
    },

    /** The task's outcome, and the end of what it kept while running (progress rows, the chunk plan). */
    async finishTask(task: TaskRef): Promise<ImportTaskResult> {
      return heartbeating(async () => finishTaskRecords(pool, await settingsOf(task)));
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
