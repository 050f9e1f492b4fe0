import path from 'node:path';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { importTask } from '../../workflows/import-task';
import type { Config } from '../config/schema';
import { lineDisplay, terminalDisplay, type ProgressDisplay } from '../progress/display';
import { takeSnapshot } from '../progress/snapshot';
import { taskSettingsOf, taskWorkflowId } from '../task-settings';
import { connectTemporal, type TemporalSession } from '../temporal/connect';
import { startInProcessWorker } from '../temporal/in-process-worker';
import { installLogging } from '../logging';
import { UserError } from '../user-error';
import { rootCauseMessage } from '../failure-message';
import { printFailedTables } from './operator-help';
import { printSummary } from './summary';

export interface ImportOptions {
  detach: boolean;
  /** The flags that name this task again, for the commands printed after a failure. */
  selector: string;
  out: (line: string) => void;
}

/**
 * `tempest import`: starts the task (or attaches to it when it is already running), follows it
 * with live progress, and exits 0 only when every table was imported and verified.
 */
export async function runImport(config: Config, options: ImportOptions): Promise<number> {
  if (options.detach && !config.temporal.address) {
    throw new UserError('--detach needs workers that outlive this command: set [temporal] address and run `tempest worker` there');
  }
  const temporal = await connectTemporal(config);
  installLogging(config.lightning.level, config.lightning.file || path.join(temporal.stateDir, 'tempest.log'));
  const embeddedWorker = temporal.devServer ? await startInProcessWorker(config, temporal) : undefined;
  const stopOnSignal = () => {
    options.out('interrupted: the task stays where it is; run the same command again to resume it');
    void embeddedWorker?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const workflowId = taskWorkflowId(config);
    const finished = await finishedTask(temporal, workflowId);
    if (finished) {
      options.out(`task ${workflowId} finished at ${finished.closeTime}; nothing to do.`);
      const code = printSummary(finished.result, options.out);
      options.out(`to import this dump again from scratch: tempest ctl ${options.selector} --checkpoint-remove=all, empty or drop its tables, then tempest import ${options.selector}`);
      return code;
    }
    const handle = await temporal.client.workflow.start(importTask, {
      taskQueue: temporal.taskQueue,
      workflowId,
      args: [{ settings: taskSettingsOf(config), generation: 2 }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const ui = temporal.devServer ? temporal.devServer.uiAddress : '(your Temporal Web UI)';
    options.out(`task ${workflowId} on ${temporal.address}; Web UI: ${ui}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`);
    if (options.detach) {
      options.out('detached: follow it with `tempest status`');
      return 0;
    }
    return await follow(temporal, handle, config, options);
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    process.removeListener('SIGTERM', stopOnSignal);
    await embeddedWorker?.stop();
    await temporal.close();
  }
}

async function follow(temporal: TemporalSession, handle: WorkflowHandle<typeof importTask>, config: Config, options: ImportOptions): Promise<number> {
  const logInterval = parseInterval(config.cron['log-progress']);
  const display: ProgressDisplay = process.stdout.isTTY ? terminalDisplay() : lineDisplay(logInterval, options.out);
  // Each look is several queries, each a workflow task for the worker: live bars look every second,
  // a log only as often as it prints (but at least every 5 s, to notice a table waiting for the operator).
  const lookEveryMs = process.stdout.isTTY ? 1000 : Math.max(1000, Math.min(logInterval, 5000));
  const settled = handle.result().then(
    (outcome) => ({ outcome }),
    (error: unknown) => ({ error }),
  );
  let done: Awaited<typeof settled> | undefined;
  void settled.then((result) => {
    done = result;
  });
  while (!done) {
    // A query can fail while the workflow is between tasks or the server restarts: the next round retries.
    const snapshot = await takeSnapshot(temporal.client, handle).catch(() => undefined);
    if (snapshot) {
      display.update(snapshot);
      if (snapshot.state.phase === 'waiting for operator') {
        display.stop();
        printFailedTables(snapshot.state.failed, snapshot.state.counts.failed, options.selector, options.out);
        options.out('the task waits for these commands; the other tables are done. Run this import command again afterwards to follow it.');
        return 3;
      }
    }
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, lookEveryMs))]);
  }
  display.stop();
  if ('error' in done) {
    if (done.error instanceof WorkflowFailedError) {
      options.out(`import failed: ${rootCauseMessage(done.error)}`);
      return 1;
    }
    throw done.error;
  }
  return printSummary(done.outcome, options.out);
}

function parseInterval(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new UserError(`[cron] log-progress: "${text}" is not a duration (write e.g. "30s" or "5m")`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

/**
 * The task of this workflow id, when it finished (its checkpoint is the result): importing again
 * must not start a second task over it. A task that failed as a whole (planning, precheck) did not
 * import anything, and is started afresh.
 */
async function finishedTask(temporal: TemporalSession, workflowId: string): Promise<{ closeTime: string; result: Awaited<ReturnType<typeof importTask>> } | undefined> {
  const handle = temporal.client.workflow.getHandle<typeof importTask>(workflowId);
  try {
    const description = await handle.describe();
    if (description.status.name !== 'COMPLETED') return undefined;
    return { closeTime: description.closeTime?.toISOString() ?? '?', result: await handle.result() };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}
