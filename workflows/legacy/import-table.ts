/* The table workflow of Tempest 0.1, kept for the tasks it started (see ./import-task.ts). */
import { ActivityFailure, ApplicationFailure, getExternalWorkflowHandle, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { chunkTaskQueue } from '../task-queues';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../../activities';
import type { ChunkBoundaries } from '../../activities/source/plan-chunks';
import type { ChunkPlan, TablePlan, TaskSettings, VerifyResult } from '../../activities/task-types';
import { CheckpointStatus, failedStatus } from '../checkpoint-status';
import { forEachConcurrently } from '../concurrency';
import { tableProgressQuery, tableWrittenSignal, type TableFailure, type TableProgress } from './definitions';

export interface ImportTableInput {
  settings: TaskSettings;
  table: TablePlan;
  /** Chunk cuts of a checkpoint taken over, for its files. */
  boundaries?: ChunkBoundaries;
}

export interface ImportTableResult {
  status: number;
  rows: number;
  verify?: VerifyResult;
}

const { planTableChunks } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumInterval: '30 seconds' },
});

const { verifyTable, addDeferredIndexes, analyzeTable } = proxyActivities<Activities>({
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

/**
 * One target table: cut its files into chunks, import the chunks (at most region-concurrency at
 * once), then verify the table against the source, add back the indexes deferred while loading,
 * and analyze it.
 */
export async function importTableOfRelease01({ settings, table, boundaries }: ImportTableInput): Promise<ImportTableResult> {
  const progress: TableProgress = { key: table.key, status: CheckpointStatus.loaded, chunks: [] };
  setHandler(tableProgressQuery, () => progress);
  const tableRef = { key: table.key, schema: table.schema, name: table.name };
  let stage: number = CheckpointStatus.allWritten;
  // A chunk heartbeats after every batch: a worker that dies is noticed within the heartbeat timeout.
  const { importChunk } = proxyActivities<Activities>({
    taskQueue: chunkTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '7 days',
    heartbeatTimeout: settings.chunkHeartbeatTimeout as Duration,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });

  try {
    const chunks = await planTableChunks({ settings, table, boundaries });
    progress.chunks = chunks.map((chunk) => ({
      key: chunk.key,
      path: chunk.path,
      type: chunk.type,
      compression: chunk.compression,
      offset: chunk.offset,
      endOffset: chunk.endOffset,
      pos: chunk.offset,
      fileSize: chunk.fileSize,
      mtimeMs: chunk.mtimeMs,
      columns: chunk.columns,
      diskBytes: diskBytesOf(chunk, chunks),
      status: 'pending',
      rows: 0,
    }));

    // A failed chunk does not stop the others: after the fix, only what failed is left to do.
    let firstFailure: { error: unknown } | undefined;
    await forEachConcurrently(chunks, settings.regionConcurrency, async (chunk, index) => {
      const state = progress.chunks[index];
      state.status = 'running';
      try {
        const result = await importChunk({ settings, table: tableRef, chunk });
        Object.assign(state, { status: 'finished', rows: result.rows, endOffset: result.endOffset, pos: result.endOffset });
      } catch (error) {
        state.status = 'failed';
        firstFailure ??= { error };
      }
    });
    if (firstFailure) throw firstFailure.error;
    progress.status = CheckpointStatus.allWritten;
    // Tables started before this step existed replay without it.
    if (patched('table-slot-ends-with-writing')) tellTaskWritten(table.key);
    const rows = progress.chunks.reduce((sum, chunk) => sum + chunk.rows, 0);

    // The deferred indexes are built while the checksum is computed: both only read the rows, and
    // each alone keeps one core of the target busy (at the last table's end, nothing else does).
    // Only in tasks that may have deferred any: older histories replay without this step.
    const indexing = settings.deferIndexes ? addDeferredIndexes({ settings, table: tableRef }) : undefined;
    // Awaited below, after the check: a mismatch is the failure to report first.
    indexing?.catch(() => undefined);

    let verify: VerifyResult | undefined;
    stage = CheckpointStatus.checksummed;
    if (settings.checksum === 'off') progress.status = CheckpointStatus.checksumSkipped;
    else {
      verify = await verifyTable({ settings, table: tableRef });
      progress.status = verify.status === 'checksummed' ? CheckpointStatus.checksummed : CheckpointStatus.checksumSkipped;
    }

    stage = CheckpointStatus.indexAdded;
    if (indexing) {
      await indexing;
      progress.status = CheckpointStatus.indexAdded;
    }

    stage = CheckpointStatus.analyzed;
    if (settings.analyze === 'off') progress.status = CheckpointStatus.analyzeSkipped;
    else {
      try {
        await analyzeTable({ table: tableRef });
        progress.status = CheckpointStatus.analyzed;
      } catch (error) {
        if (settings.analyze === 'required') throw error;
        progress.status = CheckpointStatus.analyzeSkipped;
      }
    }
    return { status: progress.status, rows, verify };
  } catch (error) {
    progress.status = failedStatus(stage);
    const failure = describeFailure(error);
    throw ApplicationFailure.create({ type: 'TableFailed', message: failure.message, nonRetryable: true, details: [{ status: progress.status, failure }] });
  }
}

/** Frees the table's table-concurrency slot in its task, so that the next table loads while this one is verified. */
function tellTaskWritten(key: string): void {
  const task = workflowInfo().parent;
  if (!task) return;
  // Not awaited: verification need not wait for the task to hear it, and a task that is gone has no slot to free.
  getExternalWorkflowHandle(task.workflowId, task.runId)
    .signal(tableWrittenSignal, key)
    .catch(() => undefined);
}

/** The activity's own failure (it names the table, file and offset), not the wrappers around it. */
function describeFailure(error: unknown): TableFailure {
  let current = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure) {
    const details = current.details?.[0] as { path?: string; offset?: number } | undefined;
    return { type: current.type ?? 'Error', message: current.message, path: details?.path, offset: details?.offset };
  }
  return { type: 'Error', message: current instanceof Error ? current.message : String(current) };
}

/**
 * A chunk's share of its file on disk, for progress: its byte range; the whole file when compressed
 * (read from its start); for Parquet, whose offsets count rows, its share of the file's rows.
 */
function diskBytesOf(chunk: ChunkPlan, chunks: readonly ChunkPlan[]): number {
  if (chunk.type === 'parquet') {
    const fileRows = Math.max(...chunks.filter((other) => other.path === chunk.path).map((other) => other.endOffset));
    return fileRows > 0 ? Math.round((chunk.fileSize * (chunk.endOffset - chunk.offset)) / fileRows) : chunk.fileSize;
  }
  return chunk.compression === 'none' ? chunk.endOffset - chunk.offset : chunk.fileSize;
}
