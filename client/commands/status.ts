import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { describeStatus } from '../../workflows/checkpoint-status';
import { formatBytes } from '../progress/display';
import { takeSnapshot } from '../progress/snapshot';
import type { Config } from '../config/schema';
import { taskWorkflowId } from '../task-settings';
import { connectTemporal } from '../temporal/connect';
import { rootCauseMessage } from '../failure-message';
import { printSummary } from './summary';

const queryPatienceMs = 10_000;

/** `tempest status`: where the task of this config stands, table by table. */
export async function runStatus(config: Config, out: (line: string) => void): Promise<number> {
  const temporal = await connectTemporal(config);
  try {
    const workflowId = taskWorkflowId(config);
    const handle = temporal.client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        out(`no task ${workflowId} yet: start it with \`tempest import\``);
        return 1;
      }
      throw error;
    }
    out(`task ${workflowId}: ${description.status.name.toLowerCase()} since ${description.startTime.toISOString()}`);
    if (description.status.name !== 'RUNNING') {
      try {
        return printSummary(await handle.result(), out);
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          out(`failed: ${rootCauseMessage(error)}`);
          return 1;
        }
        throw error;
      }
    }
    const snapshot = await Promise.race([
      takeSnapshot(temporal.client, handle),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), queryPatienceMs).unref()),
    ]);
    if (!snapshot) {
      out(`no worker answered within ${queryPatienceMs / 1000} s: run \`tempest import\` again (embedded Temporal) or start \`tempest worker\` on task queue ${temporal.taskQueue}`);
      return 1;
    }
    out(`phase: ${snapshot.state.phase}; ${formatBytes(snapshot.doneBytes)} of ${formatBytes(snapshot.totalBytes)}, ${snapshot.rows} rows`);
    for (const table of snapshot.tables) {
      const detail = table.error ? `: ${table.error}` : table.retrying ? ` (retrying: ${table.retrying})` : '';
      out(`  ${table.key}: ${describeStatus(table.status)}, ${formatBytes(table.doneBytes)}/${formatBytes(table.totalBytes)}, ${table.rows} rows${detail}`);
    }
    return 0;
  } finally {
    await temporal.close();
  }
}
