import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { readAllTableRecords, type TableRecord } from '../../activities/plan/table-queue';
import { createTargetPool } from '../../activities/database/connection';
import { describeStatus } from '../../workflows/checkpoint-status';
import { formatBytes } from '../progress/display';
import { takeSnapshot, type ProgressSnapshot } from '../progress/snapshot';
import type { Config } from '../config/schema';
import { rootCauseMessage } from '../failure-message';
import { targetSettingsOf } from '../task-settings';
import { withTaskSession } from '../temporal/task-session';
import { printFailedTables } from './operator-help';
import { printSummary } from './summary';

export interface StatusOptions {
  selector: string;
  /** One JSON document on stdout, for scripts. */
  json: boolean;
}

/** `tempest status`: where the task of this config stands, table by table, and what to do about failures. */
export function runStatus(config: Config, options: StatusOptions, out: (line: string) => void): Promise<number> {
  const { selector } = options;
  return withTaskSession(config, async (temporal, task) => {
    let description;
    try {
      description = await task.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        if (options.json) out(JSON.stringify({ task: task.workflowId, status: 'none' }));
        else out(`no task ${task.workflowId} yet: start it with \`tempest import ${selector}\``);
        return 1;
      }
      throw error;
    }
    const status = description.status.name.toLowerCase();
    if (description.status.name !== 'RUNNING') {
      try {
        const result = await task.result();
        if (options.json) {
          out(JSON.stringify({ task: task.workflowId, status, since: description.startTime.toISOString(), closed: description.closeTime?.toISOString(), result }));
          return 0;
        }
        out(`task ${task.workflowId}: ${status} at ${description.closeTime?.toISOString() ?? '?'}`);
        return printSummary(result, out);
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          if (options.json) out(JSON.stringify({ task: task.workflowId, status, error: rootCauseMessage(error) }));
          else out(`task ${task.workflowId}: failed: ${rootCauseMessage(error)}`);
          return 1;
        }
        throw error;
      }
    }
    const snapshot = await takeSnapshot(temporal.client, task);
    const failed = snapshot.state.counts.failed > 0 ? await readFailedRecords(config, snapshot) : [];
    if (options.json) {
      out(JSON.stringify({ task: task.workflowId, status, since: description.startTime.toISOString(), ...jsonOf(snapshot), failed }));
      return 0;
    }
    const { counts, plan } = snapshot.state;
    out(`task ${task.workflowId}: running since ${description.startTime.toISOString()}`);
    out(
      `phase: ${snapshot.state.phase}; ${formatBytes(snapshot.doneBytes)} of ${formatBytes(snapshot.totalBytes)}, ${snapshot.rows} rows; ` +
        `tables: ${counts.finished} done, ${snapshot.tables.length} being imported, ${counts.queued} waiting, ${counts.failed} failed of ${plan?.tables ?? '?'}`,
    );
    if (snapshot.retrying) out(`  ${snapshot.retrying}`);
    for (const table of snapshot.tables) {
      const detail = table.retrying ? ` (${table.retrying})` : '';
      out(`  ${table.key}: ${describeStatus(table.status)}, ${formatBytes(table.doneBytes)}/${formatBytes(table.totalBytes)}, ${table.rows} rows${detail}`);
    }
    printFailedTables(failed, failed.length, selector, out);
    return 0;
  });
}

/** Every failed table, from the task's table queue on the target. */
async function readFailedRecords(config: Config, snapshot: ProgressSnapshot): Promise<TableRecord[]> {
  const pool = createTargetPool(targetSettingsOf(config), 1);
  try {
    const task = { taskId: snapshot.state.taskId, taskInfoSchema: config.lightning['task-info-schema-name'] };
    return await readAllTableRecords(pool, task, `state = 'failed'`);
  } finally {
    await pool.end();
  }
}

function jsonOf(snapshot: ProgressSnapshot) {
  const { state } = snapshot;
  return {
    phase: state.phase,
    totalBytes: snapshot.totalBytes,
    doneBytes: snapshot.doneBytes,
    rows: snapshot.rows,
    tables: { total: state.plan?.tables ?? 0, ...state.counts },
    importing: snapshot.tables,
    retrying: snapshot.retrying,
  };
}
