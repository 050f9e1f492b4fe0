import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type ActivityOptions, type Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ClaimedTable } from '../activities/plan/table-queue';
import type { TaskRef } from '../activities/task-types';
import {
  tableFinishedSignal,
  tableWrittenSignal,
  taskSummaryQuery,
  tablesRequeuedSignal,
  recentEnds,
  type ImportTableInput,
  type TableFinished,
  type ImportTaskInput,
  type ImportTaskResult,
  type SmallTableGroup,
  type TaskCarry,
  type TaskContext,
  type TaskPhase,
  type TaskSummary,
} from './definitions';
import { importTable } from './import-table';
import { importTaskOfRelease01 } from './legacy/import-task';
import { formatBytes } from './format-bytes';
import { tempestState } from './search-attributes';
import { taskStepOptions } from './step-options';
import { chunkTaskQueue } from './task-queues';


/** Runs as long as the task imports; cancelled, and waited for, before the last snapshot. */
const { keepSnapshot } = proxyActivities<Activities>({
  startToCloseTimeout: '365 days',
  heartbeatTimeout: '10 seconds',
  retry: { maximumInterval: '30 seconds' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** Failed tables the task lists for the operator (all of them: `tempest status`). */
const listedFailures = 20;

/**
 * One import: plan the dump (stored on the target, not here), create the schemas, check the
 * target, import every table, then create the views. Tables run in a sliding window: at most
 * table-concurrency writing, each large table a child workflow that reports its end by signal,
 * small tables in groups by one activity; the task continues as new every so often, carrying only
 * counters and the tables in flight. A table that fails waits, durably, for `tempest ctl`.
 */
export async function importTask(input: ImportTaskInput): Promise<ImportTaskResult | Awaited<ReturnType<typeof importTaskOfRelease01>>> {
  if (input.generation === undefined) return importTaskOfRelease01(input);
  const { settings: given, carried } = input;
  const taskId = carried?.taskId ?? workflowInfo().firstExecutionRunId;
  const task: TaskRef = { taskId, taskInfoSchema: given.taskInfoSchema };
  const settings = { ...given, taskId };
  const { planTask, takeOverLightningCheckpoint, createSchemas, checkTables, claimTables, readFailedTables, createViews, finishSnapshot, finishTask } = proxyActivities<Activities>(
    taskStepOptions(settings.giveUpAfter),
  );
  const summary: TaskSummary = {
    taskId,
    phase: carried ? 'importing' : 'planning',
    sourceDir: settings.sourceDir,
    target: `${settings.target.user}@${settings.target.host}:${settings.target.port}`,
    targetHost: settings.target.host,
    targetPort: settings.target.port,
    plan: carried?.plan,
    counts: carried?.counts ?? { queued: 0, running: 0, finished: 0, failed: 0, removed: 0, finishedBytes: 0, finishedRows: 0 },
    running: carried?.running ?? [],
    smallGroups: [],
    failed: [],
    recent: [],
    ended: 0,
    takenOver: carried?.takenOver,
    runs: (carried?.runs ?? 0) + 1,
  };
  setHandler(taskSummaryQuery, () => summary);
  /** The phase, also in the Web UI's current details and, where registered, the TempestState search attribute. */
  const enter = (phase: TaskPhase) => {
    summary.phase = phase;
    if (given.searchAttributes) upsertSearchAttributes([{ key: tempestState, value: phase }]);
    describeProgress(summary);
  };
  describeProgress(summary);
  /** The queue may hold tables again (`ctl` put failed ones back). */
  let requeued = false;
  setHandler(tablesRequeuedSignal, () => {
    requeued = true;
  });
  const context: TaskContext = {
    task,
    taskWorkflowId: workflowInfo().workflowId,
    regionConcurrency: settings.regionConcurrency,
    chunkHeartbeatTimeout: settings.chunkHeartbeatTimeout,
    continueAsNewAfter: settings.continueAsNewAfter ?? 200,
    giveUpAfter: settings.giveUpAfter,
  };
  let completions = 0;
  setHandler(tableWrittenSignal, (key) => {
    const table = summary.running.find((running) => running.key === key);
    if (table) table.writing = false;
  });
  setHandler(tableFinishedSignal, (report) => {
    const index = summary.running.findIndex((running) => running.key === report.key);
    if (index >= 0) summary.running.splice(index, 1);
    countOutcome(summary, report);
    describeProgress(summary);
    completions++;
  });

  try {
    if (!carried) {
      summary.plan = await planTask(settings);
      if (settings.checkpoint.enable) summary.takenOver = await takeOverLightningCheckpoint(task);
      if (!settings.noSchema) {
        enter('restoring schemas');
        await createSchemas(task);
      }
      enter('prechecking');
      await checkTables(task);
      enter('importing');
    }
    const keeper = new CancellationScope();
    const keeping = settings.checkpoint.enable ? keeper.run(() => keepSnapshot(task)) : undefined;
    // It is waited for only to know it stopped: how (cancelled, or a failed attempt) does not matter.
    const stopKeeper = async () => {
      keeper.cancel();
      await keeping?.catch(() => undefined);
    };

    const limit = settings.tableConcurrency;
    let claims = carried?.claims ?? 0;
    let drained = false;
    let groupIds = 0;
    const smallTablesQueue = chunkTaskQueue(workflowInfo().taskQueue);
    const smallTablesOptions: ActivityOptions = {
      taskQueue: smallTablesQueue,
      startToCloseTimeout: '7 days',
      heartbeatTimeout: settings.chunkHeartbeatTimeout as Duration,
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    };
    const { importSmallTables } = proxyActivities<Activities>(smallTablesOptions);
    const writing = () => summary.running.filter((table) => table.writing).length + summary.smallGroups.length;
    const free = () => Math.min(limit - writing(), 2 * limit - summary.running.length - summary.smallGroups.length);
    const runSmallGroup = (tables: ClaimedTable[]) => {
      const group: SmallTableGroup = { id: groupIds++, keys: tables.map((table) => table.key), totalBytes: tables.reduce((sum, table) => sum + table.totalBytes, 0) };
      summary.smallGroups.push(group);
      const names = `${group.keys.slice(0, 3).join(', ')}${group.keys.length > 3 ? ', …' : ''}`;
      void importSmallTables
        .executeWithOptions({ ...smallTablesOptions, summary: `${group.keys.length} small tables: ${names}` }, [{ task, tables: tables.map(({ ordinal, destroyFirst }) => ({ ordinal, destroyFirst })) }])
        .then((results) => {
          results.forEach((result) => countOutcome(summary, result));
          describeProgress(summary);
        })
        .finally(() => {
          summary.smallGroups.splice(summary.smallGroups.indexOf(group), 1);
          completions++;
        });
    };

    for (;;) {
      const timeToContinue = completions >= context.continueAsNewAfter;
      if (!timeToContinue && free() > 0 && (!drained || requeued)) {
        requeued = false;
        const slots = await claimTables({ task, claim: `${taskId}:${claims++}`, slots: free() });
        summary.counts = slots.counts;
        describeProgress(summary);
        drained = slots.large.length + slots.small.length === 0;
        for (const table of slots.large) await startTable(context, table, summary);
        for (const group of slots.small) runSmallGroup(group);
        continue;
      }
      if (timeToContinue && summary.smallGroups.length === 0) {
        await stopKeeper();
        const next: TaskCarry = { taskId, plan: summary.plan!, takenOver: summary.takenOver, running: summary.running, counts: summary.counts, claims, runs: summary.runs };
        await continueAsNew<typeof importTask>({ settings: given, generation: 2, carried: next });
      }
      if (drained && !requeued && summary.running.length === 0 && summary.smallGroups.length === 0) {
        // The queue is empty and nothing runs: done, unless tables failed.
        const slots = await claimTables({ task, claim: `${taskId}:${claims++}`, slots: 0 });
        summary.counts = slots.counts;
        if (slots.counts.failed === 0 && slots.counts.queued === 0) break;
        if (slots.counts.queued > 0) {
          drained = false;
          continue;
        }
        enter('waiting for operator');
        summary.failed = await readFailedTables({ task, limit: listedFailures });
        await condition(() => requeued);
        summary.failed = [];
        enter('importing');
        continue;
      }
      const seen = { completions, requeued, free: free() };
      await condition(() => completions !== seen.completions || requeued !== seen.requeued || free() !== seen.free);
    }

    if (!settings.noSchema && (summary.plan?.views ?? 0) > 0) {
      enter('restoring views');
      await createViews(task);
    }
    enter('finishing');
    await stopKeeper();
    if (settings.checkpoint.enable) await finishSnapshot(task);
    const result = await finishTask(task);
    enter('finished');
    return summary.takenOver ? { ...result, takenOver: summary.takenOver } : result;
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    enter('failed');
    summary.error = error instanceof Error ? error.message : String(error);
    throw error;
  }
}

/**
 * Starts a large table's workflow. It outlives this run of the task (which may continue as new
 * meanwhile) and reports to the task's workflow id, whichever run that is then.
 */
async function startTable(context: TaskContext, table: ClaimedTable, summary: TaskSummary): Promise<void> {
  const workflowId = `${context.taskWorkflowId}/${table.key}`;
  const args: [ImportTableInput] = [{ generation: 2, context, table: { ordinal: table.ordinal, key: table.key, totalBytes: table.totalBytes }, destroyFirst: table.destroyFirst }];
  for (;;) {
    try {
      await startChild(importTable, {
        workflowId,
        args,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `${table.key}: ${table.fileCount} data files, ${formatBytes(table.totalBytes)}`,
      });
      break;
    } catch (error) {
      // Its previous run (before `ctl` put it back) is still closing.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      await sleep('1 second');
    }
  }
  summary.running.push({ key: table.key, ordinal: table.ordinal, workflowId, totalBytes: table.totalBytes, writing: true });
}

/** A table's end in the counters, until the next claim reads them afresh from the queue. */
function countOutcome(summary: TaskSummary, outcome: TableFinished): void {
  summary.recent.push({ ...outcome, seq: ++summary.ended });
  if (summary.recent.length > recentEnds) summary.recent.shift();
  summary.counts.running = Math.max(0, summary.counts.running - 1);
  if (outcome.failed) summary.counts.failed++;
  else {
    summary.counts.finished++;
    summary.counts.finishedRows += outcome.rows;
    summary.counts.finishedBytes += outcome.bytes;
  }
}


/** The task's progress, in the Web UI's current details. */
function describeProgress(summary: TaskSummary): void {
  const { counts, plan } = summary;
  const failed = counts.failed > 0 ? `, ${counts.failed} failed` : '';
  setCurrentDetails(
    `**${summary.phase}**: ${counts.finished} of ${plan?.tables ?? '?'} tables imported${failed}, ${summary.running.length} tables and ${summary.smallGroups.length} groups of small tables being written; ` +
      `${formatBytes(counts.finishedBytes)} of ${formatBytes(plan?.totalBytes ?? 0)}, ${counts.finishedRows} rows (run ${summary.runs})`,
  );
}
