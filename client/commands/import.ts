import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createImportWorker } from '../../worker/create-worker';
import { importTask, type ImportTaskResult } from '../../workflows/import-task';
import type { Config } from '../config/schema';
import { lineDisplay, terminalDisplay, type ProgressDisplay } from '../progress/display';
import { takeSnapshot } from '../progress/snapshot';
import { targetSettingsOf, taskSettingsOf, taskWorkflowId } from '../task-settings';
import { connectTemporal, type TemporalSession } from '../temporal/connect';
import { installLogging } from '../logging';
import { UserError } from '../user-error';
import { rootCauseMessage } from '../failure-message';
import { printSummary } from './summary';

export interface ImportOptions {
  detach: boolean;
  out: (line: string) => void;
}

/**
 * `tempest import`: starts the task (or attaches to it when it is already running), follows it
 * with live progress, and exits 0 only when every table was imported and verified.
 */
export async function runImport(config: Config, options: ImportOptions): Promise<number> {
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
    const handle = await temporal.client.workflow.start(importTask, {
      taskQueue: temporal.taskQueue,
      workflowId,
      args: [{ settings: taskSettingsOf(config) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const ui = temporal.devServer ? temporal.devServer.uiAddress : '(your Temporal Web UI)';
    options.out(`task ${workflowId} on ${temporal.address}; Web UI: ${ui}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`);
    if (options.detach) {
      if (embeddedWorker) {
        throw new UserError('--detach needs workers that outlive this command: set [temporal] address and run `tempest worker` there');
      }
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
  const display: ProgressDisplay = process.stdout.isTTY ? terminalDisplay() : lineDisplay(parseInterval(config.cron['log-progress']), options.out);
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  const poll = (async () => {
    while (!finished) {
      try {
        display.update(await takeSnapshot(temporal.client, handle));
      } catch {
        // A query can fail while the workflow is between tasks or the server restarts: try again.
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  let outcome: ImportTaskResult;
  try {
    outcome = await result;
  } catch (error) {
    await poll;
    display.stop();
    if (error instanceof WorkflowFailedError) {
      options.out(`import failed: ${rootCauseMessage(error)}`);
      return 1;
    }
    throw error;
  }
  await poll;
  try {
    display.update(await takeSnapshot(temporal.client, handle));
  } catch {
    // The final figures are printed by the summary below anyway.
  }
  display.stop();
  return printSummary(outcome, options.out);
}

async function startInProcessWorker(config: Config, temporal: TemporalSession): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: temporal.address });
  const { worker, close } = await createImportWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    target: targetSettingsOf(config),
    regionConcurrency: config.lightning['region-concurrency'],
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await close();
        await connection.close();
      })()),
  };
}

function parseInterval(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new UserError(`[cron] log-progress: "${text}" is not a duration (write e.g. "30s" or "5m")`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}
