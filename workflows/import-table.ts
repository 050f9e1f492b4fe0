import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ContinueAsNew,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { CheckpointStatus, describeStatus, failedStatus } from './checkpoint-status';
import { formatBytes } from './format-bytes';
import { forEachConcurrently } from './concurrency';
import {
  tableFinishedSignal,
  tableSummaryQuery,
  tableWrittenSignal,
  type ImportTableInput,
  type TableFailure,
  type TableFinished,
  type TableSummary,
} from './definitions';
import { importEngine } from './import-engine';
import { importTableOfRelease01 } from './legacy/import-table';
import { taskStepOptions } from './step-options';

/** Verification and index builds of a large table take as long as they take: give-up-after does not bound them. */
const { finishTable } = proxyActivities<Activities>({
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

/** Engines of one table imported at once: their chunks share the worker's region-concurrency. */
const engineConcurrency = 2;

/**
 * One large target table: cut its files into chunks and engines (stored on the target), import
 * each engine as a child workflow, then verify the table, add back its deferred indexes and
 * analyze it. Its outcome is recorded in the task's table queue and signalled to the task.
 */
export async function importTable(input: ImportTableInput | Parameters<typeof importTableOfRelease01>[0]): Promise<unknown> {
  if (!('generation' in input)) return importTableOfRelease01(input);
  const { context, table, carried } = input;
  const { task } = context;
  const { planTable, recordTable } = proxyActivities<Activities>(taskStepOptions(context.giveUpAfter));
  const summary: TableSummary = {
    key: table.key,
    status: carried ? CheckpointStatus.loaded : CheckpointStatus.loaded,
    chunks: carried?.chunks ?? 0,
    engines: carried?.engineGroups.length ?? 0,
    enginesDone: carried?.nextEngine ?? 0,
    rows: carried?.rows ?? 0,
    doneBytes: carried?.doneBytes ?? 0,
    runningEngines: [],
  };
  setHandler(tableSummaryQuery, () => summary);
  const describe = () =>
    setCurrentDetails(
      `**${describeStatus(summary.status)}**: ${summary.enginesDone} of ${summary.engines} engines imported, ${summary.chunks} chunks in all; ` +
        `${summary.rows} rows, ${formatBytes(summary.doneBytes)} of ${formatBytes(table.totalBytes)}`,
    );
  describe();
  let stage: number = CheckpointStatus.allWritten;
  try {
    const plan = carried ?? { ...(await planTable({ task, ordinal: table.ordinal, destroyFirst: input.destroyFirst })), nextEngine: 0, rows: 0, doneBytes: 0 };
    summary.chunks = plan.chunks;
    summary.engines = plan.engineGroups.length;

    // A failed engine does not stop the others: after the fix, only what failed is left to do.
    let firstFailure: { error: unknown } | undefined;
    const engines = plan.engineGroups.map((groups, engineId) => ({ groups, engineId })).slice(plan.nextEngine, plan.nextEngine + context.continueAsNewAfter);
    await forEachConcurrently(engines, engineConcurrency, async ({ engineId, groups }) => {
      const workflowId = `${workflowInfo().workflowId}/engine-${engineId}`;
      summary.runningEngines.push({ engineId, workflowId });
      try {
        const result = await executeChild(importEngine, {
          workflowId,
          args: [{ context, table: { ordinal: table.ordinal, key: table.key }, engineId, groups }],
          staticSummary: `${table.key} engine ${engineId}: ${groups} chunk groups`,
        });
        summary.rows += result.rows;
        summary.doneBytes += result.doneBytes;
        summary.enginesDone++;
        describe();
      } catch (error) {
        firstFailure ??= { error };
      } finally {
        summary.runningEngines = summary.runningEngines.filter((engine) => engine.engineId !== engineId);
      }
    });
    if (firstFailure) throw firstFailure.error;
    const nextEngine = plan.nextEngine + engines.length;
    if (nextEngine < plan.engineGroups.length) {
      await continueAsNew<typeof importTable>({ ...input, carried: { ...plan, nextEngine, rows: summary.rows, doneBytes: summary.doneBytes } });
    }

    summary.status = CheckpointStatus.allWritten;
    describe();
    await recordTable({ task, ordinal: table.ordinal, outcome: { state: 'running', status: summary.status, rows: summary.rows, doneBytes: summary.doneBytes } });
    tellTask(context.taskWorkflowId, (handle) => handle.signal(tableWrittenSignal, table.key));

    stage = CheckpointStatus.checksummed;
    const finished = await finishTable({ task, ordinal: table.ordinal });
    summary.status = finished.status;
    describe();
    await recordTable({ task, ordinal: table.ordinal, outcome: { state: 'finished', status: finished.status, rows: summary.rows, doneBytes: table.totalBytes, verify: finished.verify } });
    await reportEnd(context.taskWorkflowId, { key: table.key, failed: false, status: finished.status, rows: summary.rows, bytes: table.totalBytes });
    return { status: finished.status, rows: summary.rows, verify: finished.verify };
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    const { status, failure } = describeFailure(error, stage);
    summary.status = status;
    setCurrentDetails(`**${describeStatus(status)}**: ${failure.message}`);
    await recordTable({ task, ordinal: table.ordinal, outcome: { state: 'failed', status, rows: summary.rows, doneBytes: 0, failure } });
    await reportEnd(context.taskWorkflowId, { key: table.key, failed: true, status, rows: 0, bytes: 0 });
    throw ApplicationFailure.create({ type: 'TableFailed', message: failure.message, nonRetryable: true, details: [{ status, failure }] });
  }
}

type TaskHandle = ReturnType<typeof getExternalWorkflowHandle>;

/** Not awaited: the table's work need not wait for the task to hear it. */
function tellTask(taskWorkflowId: string, send: (handle: TaskHandle) => Promise<void>): void {
  send(getExternalWorkflowHandle(taskWorkflowId)).catch(() => undefined);
}

/** The task learns of the end (it frees the table's place), whichever run of it is current. */
async function reportEnd(taskWorkflowId: string, report: TableFinished): Promise<void> {
  await getExternalWorkflowHandle(taskWorkflowId).signal(tableFinishedSignal, report);
}

/** The activity's own failure (it names the table, file and offset), not the wrappers around it; and the status it leaves. */
function describeFailure(error: unknown, stage: number): { status: number; failure: TableFailure } {
  let current = error;
  while ((current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) && current.cause) current = current.cause;
  // An engine passes on its chunk's failure as its own: look inside it too.
  while (current instanceof ApplicationFailure && current.type === 'EngineFailed' && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure) {
    const details = current.details?.[0] as { path?: string; offset?: number; status?: number } | undefined;
    return { status: details?.status ?? failedStatus(stage), failure: { type: current.type ?? 'Error', message: current.message, path: details?.path, offset: details?.offset } };
  }
  return { status: failedStatus(stage), failure: { type: 'Error', message: current instanceof Error ? current.message : String(current) } };
}
