import type { ActivityOptions, Duration } from '@temporalio/common';
import { continueAsNew, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { forEachConcurrently } from './concurrency';
import { engineSummaryQuery, type EngineResult, type EngineSummary, type ImportEngineInput } from './definitions';
import { formatBytes } from './format-bytes';
import { chunkTaskQueue } from './task-queues';

/**
 * One engine of a table (Lightning's group of chunks, `[mydumper] batch-size` of source bytes):
 * its chunk groups, each one activity on the chunk task queue, as many at once as the task's
 * region-concurrency. Continues as new after a bounded number of groups, carrying its counters.
 */
export async function importEngine({ context, table, engineId, groups, carried }: ImportEngineInput): Promise<EngineResult> {
  const summary: EngineSummary = {
    engineId,
    groups,
    groupsDone: carried?.nextGroup ?? 0,
    chunksDone: carried?.chunks ?? 0,
    rows: carried?.rows ?? 0,
    doneBytes: carried?.doneBytes ?? 0,
  };
  setHandler(engineSummaryQuery, () => summary);
  const describe = () => setCurrentDetails(`${summary.groupsDone} of ${groups} chunk groups imported: ${summary.chunksDone} chunks, ${summary.rows} rows, ${formatBytes(summary.doneBytes)}`);
  describe();
  // A chunk heartbeats after every batch: a worker that dies is noticed within the heartbeat timeout.
  const chunkOptions: ActivityOptions = {
    taskQueue: chunkTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '7 days',
    heartbeatTimeout: context.chunkHeartbeatTimeout as Duration,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  };
  const { importChunkGroup } = proxyActivities<Activities>(chunkOptions);
  const first = carried?.nextGroup ?? 0;
  const last = Math.min(groups, first + context.continueAsNewAfter);
  const batch = Array.from({ length: last - first }, (_, index) => first + index);
  // A failed group does not stop the others: after the fix, only what failed is left to do.
  let firstFailure: { error: unknown } | undefined;
  await forEachConcurrently(batch, context.regionConcurrency, async (group) => {
    try {
      const result = await importChunkGroup.executeWithOptions({ ...chunkOptions, summary: `${table.key} engine ${engineId}, chunk group ${group + 1} of ${groups}` }, [
        { task: context.task, ordinal: table.ordinal, engineId, group },
      ]);
      summary.groupsDone++;
      summary.chunksDone += result.chunks;
      summary.rows += result.rows;
      summary.doneBytes += result.diskBytes;
      describe();
    } catch (error) {
      firstFailure ??= { error };
    }
  });
  if (firstFailure) throw firstFailure.error;
  if (last < groups) {
    await continueAsNew<typeof importEngine>({ context, table, engineId, groups, carried: { nextGroup: last, chunks: summary.chunksDone, rows: summary.rows, doneBytes: summary.doneBytes } });
  }
  return { rows: summary.rows, chunks: summary.chunksDone, doneBytes: summary.doneBytes };
}
