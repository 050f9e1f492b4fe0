import { ApplicationFailure, ChildWorkflowFailure, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TaskSettings } from '../activities/task-types';
import { CheckpointStatus, isFailedStatus } from './checkpoint-status';
import { forEachConcurrently } from './concurrency';
import { taskStateQuery, type ImportTaskInput, type TableState, type TaskState } from './definitions';
import { importTable } from './import-table';

const { planSource, prepareTarget, restoreSchemas, precheckTables, restoreViews, forgetTaskProgress } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds' },
});

export interface ImportTaskResult {
  tables: Array<Pick<TableState, 'key' | 'status' | 'rows' | 'verify'>>;
}

/**
 * One import: plan the dump, create the schemas, check the target, import every table (each a
 * child workflow, at most table-concurrency at once), then create the views.
 */
export async function importTask({ settings: given }: ImportTaskInput): Promise<ImportTaskResult> {
  const settings: TaskSettings = { ...given, taskId: workflowInfo().firstExecutionRunId };
  const state: TaskState = {
    taskId: settings.taskId,
    phase: 'planning',
    sourceDir: settings.sourceDir,
    target: `${settings.target.user}@${settings.target.host}:${settings.target.port}`,
    tables: [],
  };
  setHandler(taskStateQuery, () => state);

  try {
    const plan = await planSource(settings);
    state.tables = plan.tables.map((table) => ({
      key: table.key,
      schema: table.schema,
      name: table.name,
      status: CheckpointStatus.loaded,
      totalBytes: table.totalBytes,
      doneBytes: 0,
      rows: 0,
      childWorkflowId: `${workflowInfo().workflowId}/${table.key}`,
    }));
    await prepareTarget(settings);
    if (!settings.noSchema) {
      state.phase = 'restoring schemas';
      await restoreSchemas({ databases: plan.databases, tables: plan.tables });
    }
    state.phase = 'prechecking';
    await precheckTables({ taskId: settings.taskId, taskInfoSchema: settings.taskInfoSchema, tables: plan.tables });

    state.phase = 'importing';
    await forEachConcurrently(plan.tables, settings.tableConcurrency, async (table, index) => {
      const tableState = state.tables[index];
      try {
        const result = await executeChild(importTable, { workflowId: tableState.childWorkflowId, args: [{ settings, table }] });
        Object.assign(tableState, { status: result.status, rows: result.rows, verify: result.verify, doneBytes: table.totalBytes });
      } catch (error) {
        if (!(error instanceof ChildWorkflowFailure)) throw error;
        const details = (error.cause as ApplicationFailure | undefined)?.details?.[0] as { status?: number } | undefined;
        tableState.status = details?.status ?? 0;
        tableState.error = error.cause?.message ?? error.message;
      }
    });

    const failed = state.tables.filter((table) => isFailedStatus(table.status) || table.error);
    if (failed.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `${failed.length} of ${state.tables.length} tables failed: ${failed.map((table) => table.error).join(' | ')}`,
        'TablesFailed',
      );
    }

    if (!settings.noSchema && plan.views.length > 0) {
      state.phase = 'restoring views';
      await restoreViews({ views: plan.views });
    }
    await forgetTaskProgress(settings);
    state.phase = 'finished';
    return { tables: state.tables.map(({ key, status, rows, verify }) => ({ key, status, rows, verify })) };
  } catch (error) {
    state.phase = 'failed';
    state.error = error instanceof Error ? error.message : String(error);
    throw error;
  }
}
