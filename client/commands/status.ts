import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { describeStatus } from '../../workflows/checkpoint-status';
import { formatBytes } from '../progress/display';
import { takeSnapshot } from '../progress/snapshot';
import type { Config } from '../config/schema';
import { rootCauseMessage } from '../failure-message';
import { withTaskSession } from '../temporal/task-session';
import { printFailedTables } from './operator-help';
import { printSummary } from './summary';

/** `tempest status`: where the task of this config stands, table by table, and what to do about failures. */
export function runStatus(config: Config, selector: string, out: (line: string) => void): Promise<number> {
  return withTaskSession(config, async (temporal, task) => {
    let description;
    try {
      description = await task.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        out(`no task ${task.workflowId} yet: start it with \`tempest import ${selector}\``);
        return 1;
      }
      throw error;
    }
    out(`task ${task.workflowId}: ${description.status.name.toLowerCase()} since ${description.startTime.toISOString()}`);
    if (description.status.name !== 'RUNNING') {
      try {
        return printSummary(await task.result(), out);
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          out(`failed: ${rootCauseMessage(error)}`);
          return 1;
        }
        throw error;
      }
    }
    const snapshot = await takeSnapshot(temporal.client, task);
    out(`phase: ${snapshot.state.phase}; ${formatBytes(snapshot.doneBytes)} of ${formatBytes(snapshot.totalBytes)}, ${snapshot.rows} rows`);
    for (const table of snapshot.tables) {
      if (table.error) continue;
      const detail = table.retrying ? ` (retrying: ${table.retrying})` : '';
      out(`  ${table.key}: ${describeStatus(table.status)}, ${formatBytes(table.doneBytes)}/${formatBytes(table.totalBytes)}, ${table.rows} rows${detail}`);
    }
    printFailedTables(snapshot.state, selector, out);
    return 0;
  });
}
