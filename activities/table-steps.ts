import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'mysql2/promise';
import { CheckpointStatus, failedStatus } from '../workflows/checkpoint-status';
import type { TableFailure } from '../workflows/definitions';
import { toActivityFailure } from './failures';
import { importChunk, type ChunkContext } from './import-chunk';
import { readTableProgressTotals } from './database/chunk-progress';
import { addDeferredIndexes } from './database/deferred-indexes';
import { destroyTargetTable } from './database/destroy-table';
import { qualifiedName } from './database/sql-text';
import { verifyTable } from './database/verify-table';
import { assignEngines, readChunks, storeTableChunks, summarize, type TableChunkSummary } from './plan/chunk-plan';
import { readTablePlan, type TableHead } from './plan/task-plan';
import { recordTableOutcomes, type TableOutcome } from './plan/table-queue';
import { planChunks } from './source/plan-chunks';
import type { ChunkHeartbeat, TaskSettings, VerifyResult } from './task-types';

/**
 * The steps of one table, as plain functions: a large table's workflow runs each as an activity,
 * and a group of small tables runs them all in one activity, table after table, with the same
 * guarantees (chunk progress commits with the rows; every step can run again).
 */

/** Cuts tables' files into chunks and engines and stores them, in one transaction; a destroyed table is cut afresh. */
export async function planTableChunks(pool: Pool, settings: TaskSettings, tables: ReadonlyArray<{ head: TableHead; destroyFirst: boolean }>): Promise<TableChunkSummary[]> {
  const planned = [];
  for (const { head, destroyFirst } of tables) {
    const { plan, boundaries } = await readTablePlan(pool, settings, head);
    // A destroyed table starts over: a checkpoint's cut no longer applies to it.
    const chunks = assignEngines(await planChunks(settings, plan.dataFiles, destroyFirst ? {} : boundaries), settings.batchSize ?? defaultBatchSize);
    planned.push({ ordinal: head.ordinal, chunks });
  }
  await storeTableChunks(pool, settings, planned);
  return planned.map(({ chunks }) => summarize(chunks));
}

/** Lightning's `[mydumper] batch-size`: source bytes per engine. */
const defaultBatchSize = 100 * 1024 ** 3;

export async function destroyTable(pool: Pool, settings: TaskSettings, head: TableHead): Promise<void> {
  const { plan } = await readTablePlan(pool, settings, head);
  await destroyTargetTable(pool, settings, plan);
}

export interface GroupResult {
  rows: number;
  chunks: number;
  diskBytes: number;
}

/**
 * Imports the chunks of one group (or of the whole table), one after the other, each resuming from
 * its committed position. A chunk that fails for the operator to fix (bad data) does not stop the
 * others, as a failed group does not stop its engine's others: the first such failure is thrown
 * once every chunk had its turn, so that after the fix only what failed is left to do. Any other
 * failure (the target down, the activity cancelled) is thrown at once.
 */
export async function importChunkGroup(
  context: ChunkContext,
  settings: TaskSettings,
  head: TableHead,
  where: { engineId?: number; group?: number },
  onChunkDone: (done: GroupResult) => void = () => undefined,
): Promise<GroupResult> {
  const table = { key: head.key, schema: head.schema, name: head.name };
  const result: GroupResult = { rows: 0, chunks: 0, diskBytes: 0 };
  let firstFailure: { error: unknown } | undefined;
  for (const chunk of await readChunks(context.pool, settings, head.ordinal, where)) {
    let done;
    try {
      done = await importChunk(context, { settings, table, chunk });
    } catch (error) {
      // The chunk's own verdict on its data; anything else (the target, a cancelled activity) stops the group.
      if (context.signal.aborted || !(error instanceof ApplicationFailure && error.nonRetryable)) throw error;
      firstFailure ??= { error };
      continue;
    }
    result.rows += done.rows;
    result.chunks++;
    result.diskBytes += chunk.diskBytes;
    onChunkDone(result);
  }
  if (firstFailure) throw firstFailure.error;
  return result;
}

/**
 * What follows the rows: verification (row count and checksum), the deferred indexes (built while
 * the checksum is computed: both only read the rows), and ANALYZE. Returns the final status; a
 * failure says at which stage, as Lightning's failed statuses do.
 */
export async function finishTableRows(pool: Pool, settings: TaskSettings, head: TableHead): Promise<{ status: number; verify?: VerifyResult }> {
  const table = { key: head.key, schema: head.schema, name: head.name };
  let stage: number = CheckpointStatus.checksummed;
  try {
    const indexing = settings.deferIndexes ? addDeferredIndexes(pool, settings, table) : undefined;
    // Awaited below, after the check: a mismatch is the failure to report first.
    indexing?.catch(() => undefined);
    let status: number = CheckpointStatus.checksumSkipped;
    let verify: VerifyResult | undefined;
    if (settings.checksum !== 'off') {
      verify = await verifyTable(pool, { settings, table });
      if (verify.status === 'checksummed') status = CheckpointStatus.checksummed;
    }
    stage = CheckpointStatus.indexAdded;
    if (indexing) {
      await indexing;
      status = CheckpointStatus.indexAdded;
    }
    stage = CheckpointStatus.analyzed;
    status = CheckpointStatus.analyzeSkipped;
    if (settings.analyze !== 'off') {
      try {
        await pool.query(`ANALYZE TABLE ${qualifiedName(table.schema, table.name)}`);
        status = CheckpointStatus.analyzed;
      } catch (error) {
        if (settings.analyze === 'required') throw error;
      }
    }
    return { status, verify };
  } catch (error) {
    throw withStage(error, stage);
  }
}

/** A failure of a table step, marked with the status it leaves the table in. */
export function withStage(error: unknown, stage: number): unknown {
  const failure = toActivityFailure(error);
  if (!(failure instanceof ApplicationFailure) || !failure.nonRetryable) return failure;
  const details = (failure.details?.[0] ?? {}) as Record<string, unknown>;
  if (details.status !== undefined) return failure;
  return ApplicationFailure.create({ type: failure.type ?? undefined, message: failure.message, nonRetryable: true, details: [{ ...details, status: failedStatus(stage) }] });
}

/** For an error a table step threw: how the table is recorded as failed; undefined for one worth retrying. */
export function tableFailureOf(error: unknown, stage: number): { status: number; failure: TableFailure } | undefined {
  const failure = withStage(error, stage);
  if (!(failure instanceof ApplicationFailure) || !failure.nonRetryable) return undefined;
  const details = (failure.details?.[0] ?? {}) as { status?: number; path?: string; offset?: number };
  return { status: details.status ?? failedStatus(stage), failure: { type: failure.type ?? 'Error', message: failure.message, path: details.path, offset: details.offset } };
}

export interface SmallTableResult {
  ordinal: number;
  key: string;
  failed: boolean;
  status: number;
  rows: number;
  bytes: number;
}

/**
 * Small tables from start to end in one go: (destroyed,) planned together, then each one's rows,
 * verification, indexes and analyze; their outcomes recorded together at the end (a crash before
 * that redoes only what is not committed: chunk positions commit with the rows). As with large
 * tables, a table whose rows are in leaves its place to the next one: the next table's rows load
 * while it is verified and its indexes are built (one table at a time finishes behind the rows).
 * The activity heartbeats throughout, a long index build included. A failure the operator must
 * fix is recorded as that table's, and the next table goes on; a passing one (the target down) is
 * thrown, and the activity retries.
 */
export async function importSmallTables(
  context: ChunkContext,
  settings: TaskSettings,
  tables: ReadonlyArray<{ head: TableHead; destroyFirst: boolean }>,
  onRowsIn: (table: { rows: number; bytes: number }) => void,
): Promise<SmallTableResult[]> {
  // Between chunk heartbeats (a table being verified, an index build waiting for a lock), the last
  // one again, once a table's rows are counted in `onRowsIn` without its chunk's rows.
  let idle: ChunkHeartbeat = { chunkKey: '', pos: 0, rows: 0, diskBytes: 0 };
  let beatAt = Date.now();
  const beating: ChunkContext = {
    ...context,
    heartbeat: (beat) => {
      idle = beat;
      beatAt = Date.now();
      context.heartbeat(beat);
    },
  };
  const keepAlive = setInterval(() => {
    if (Date.now() - beatAt >= 1000) beating.heartbeat(idle);
  }, 1000);
  const outcomes: Array<{ ordinal: number; outcome: TableOutcome }> = [];
  const results: SmallTableResult[] = [];
  const done = (head: TableHead, outcome: TableOutcome) => {
    outcomes.push({ ordinal: head.ordinal, outcome });
    results.push({ ordinal: head.ordinal, key: head.key, failed: outcome.state === 'failed', status: outcome.status, rows: outcome.rows, bytes: outcome.doneBytes });
  };
  let finishing: Promise<void> | undefined;
  try {
    for (const { head, destroyFirst } of tables) if (destroyFirst) await destroyTable(context.pool, settings, head);
    const summaries = await planTableChunks(context.pool, settings, tables);
    for (const [index, { head }] of tables.entries()) {
      const written = await writeSmallTable(beating, settings, head);
      idle = { ...idle, rows: 0, diskBytes: 0 };
      onRowsIn({ rows: written.rows, bytes: 'failed' in written ? 0 : head.totalBytes });
      // The table before this one has finished: outcomes stay in plan order, and one finishes at a time.
      await finishing;
      if ('failed' in written) {
        done(head, written.failed);
        continue;
      }
      finishing = finishSmallTable(context.pool, settings, head, summaries[index], written.rows).then((outcome) => done(head, outcome));
      // Awaited with the next table (or at the end); meanwhile a rejection is not unhandled.
      finishing.catch(() => undefined);
    }
    await finishing;
  } catch (error) {
    // Nothing of this attempt goes on behind a retry (no index build left running).
    await finishing?.catch(() => undefined);
    throw error;
  } finally {
    clearInterval(keepAlive);
  }
  await recordTableOutcomes(context.pool, settings, outcomes);
  return results;
}

/** A small table's rows, each chunk resuming from its committed position; a failure the operator must fix, as the table's outcome. */
async function writeSmallTable(context: ChunkContext, settings: TaskSettings, head: TableHead): Promise<{ rows: number } | { rows: number; failed: TableOutcome }> {
  try {
    return { rows: (await importChunkGroup(context, settings, head, {})).rows };
  } catch (error) {
    const failed = await failedOutcome(context.pool, settings, head, error, CheckpointStatus.allWritten);
    return { rows: failed.rows, failed };
  }
}

/** A small table once its rows are in: verification, indexes and analyze, and how it ended. */
async function finishSmallTable(pool: Pool, settings: TaskSettings, head: TableHead, summary: TableChunkSummary, rows: number): Promise<TableOutcome> {
  try {
    const finished = await finishTableRows(pool, settings, head);
    return { state: 'finished', status: finished.status, rows, doneBytes: head.totalBytes, chunks: summary.chunks, engines: summary.engineGroups.length, verify: finished.verify };
  } catch (error) {
    return failedOutcome(pool, settings, head, error, CheckpointStatus.checksummed);
  }
}

/** A table step's failure: the table's outcome when the operator must fix it; thrown (the activity retries) when not. */
async function failedOutcome(pool: Pool, settings: TaskSettings, head: TableHead, error: unknown, stage: number): Promise<TableOutcome> {
  const failed = tableFailureOf(error, stage);
  if (!failed) throw toActivityFailure(error);
  // A failed table's rows are those committed: they stay, and a fix resumes after them.
  const committed = await readTableProgressTotals(pool, settings.taskInfoSchema, settings.taskId, head.key);
  return { state: 'failed', status: failed.status, rows: committed.rows, doneBytes: 0, failure: failed.failure };
}
