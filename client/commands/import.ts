import path from 'node:path';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { importTask } from '../../workflows/import-task';
import { tempestSource, tempestState, tempestTarget } from '../../workflows/search-attributes';
import { hasTempestSearchAttributes } from '../temporal/search-attributes';
import type { Config } from '../config/schema';
import { lineDisplay, terminalDisplay, type ProgressDisplay } from '../progress/display';
import { takeSnapshot } from '../progress/snapshot';
import { taskSettingsOf, taskWorkflowId } from '../task-settings';
import { connectTemporal, type TemporalSession } from '../temporal/connect';
import { startInProcessWorker, type InProcessWorker } from '../temporal/in-process-worker';
import { hasLiveWorker } from '../temporal/worker-presence';
import { exitOnInterrupt } from '../interruption';
import { PrecheckFailedError, runPrechecks } from '../prechecks/run-prechecks';
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
 * `tempest import`: checks that the import can run, starts the task (or attaches to it when it
 * already exists), follows it with live progress, and exits 0 only when every table was imported
 * and verified.
 */
export async function runImport(config: Config, options: ImportOptions): Promise<number> {
  if (options.detach && !config.temporal.address) {
    throw new UserError('--detach needs workers that outlive this command: set [temporal] address and run `tempest worker` there');
  }
  let embeddedWorker: InProcessWorker | undefined;
  const stopHandlers = exitOnInterrupt(
    () =>
      config.temporal.address
        ? `detached: the task goes on in its workers; run the same command again to follow it, or \`tempest status ${options.selector}\``
        : 'interrupted: the import stops where it is, with no row lost or written twice; run the same command again to resume it',
    options.out,
    () => embeddedWorker,
  );
  try {
    // The checks run while Temporal connects (the embedded server boots meanwhile): they add no wait.
    const prechecks = runPrechecks(config);
    prechecks.catch(() => undefined);
    const temporal = await connectTemporal(config).catch(async (error: unknown) => {
      if (error instanceof UserError) throw new PrecheckFailedError([...(await prechecks.catch(() => [])), error.message]);
      throw error;
    });
    try {
      installLogging(config.lightning.level, config.lightning.file || path.join(temporal.stateDir, 'tempest.log'));
      const workflowId = taskWorkflowId(config);
      const existing = await existingTask(temporal, workflowId);
      if (existing?.status === 'COMPLETED') {
        // Its checkpoint is the result: importing again does not start a second task over it.
        options.out(`task ${workflowId} finished at ${existing.closeTime}; nothing to do.`);
        const code = printSummary(await temporal.client.workflow.getHandle<typeof importTask>(workflowId).result(), options.out);
        options.out(`to import this dump again from scratch: tempest ctl ${options.selector} --checkpoint-remove=all, empty or drop its tables, then tempest import ${options.selector}`);
        return code;
      }
      // A running task is attached to: it was checked when it started. One that failed as a whole
      // (planning, a precheck) imported nothing, and starts afresh.
      if (existing?.status !== 'RUNNING') {
        const problems = await prechecks;
        if (problems.length > 0) throw new PrecheckFailedError(problems);
      }
      embeddedWorker = temporal.devServer ? await startInProcessWorker(config, temporal) : undefined;
      const settings = { ...taskSettingsOf(config), searchAttributes: await hasTempestSearchAttributes(temporal) };
      const target = `${settings.target.host}:${settings.target.port}`;
      const handle = await temporal.client.workflow.start(importTask, {
        taskQueue: temporal.taskQueue,
        workflowId,
        args: [{ settings, generation: 2 }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Import of ${settings.sourceDir} into ${target}`,
        staticDetails: `${settings.tableConcurrency} tables and ${settings.regionConcurrency} chunks at once; checksum ${settings.checksum}, analyze ${settings.analyze}`,
        typedSearchAttributes: settings.searchAttributes
          ? [
              { key: tempestSource, value: settings.sourceDir },
              { key: tempestTarget, value: target },
              { key: tempestState, value: 'planning' },
            ]
          : undefined,
      });
      const link = temporal.webUi ? `; Web UI: ${temporal.webUi}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}` : '';
      options.out(`task ${workflowId} on ${temporal.address}${link}`);
      if (!temporal.devServer && !(await hasLiveWorker(temporal).catch(() => true))) {
        options.out(`no worker polls task queue "${temporal.taskQueue}" yet: the task waits until one does (start one with \`tempest worker ${options.selector}\`)`);
      }
      if (options.detach) {
        options.out('detached: follow it with `tempest status`');
        return 0;
      }
      return await follow(temporal, handle, config, options);
    } finally {
      await embeddedWorker?.stop();
      await temporal.close();
    }
  } finally {
    stopHandlers();
  }
}

async function existingTask(temporal: TemporalSession, workflowId: string): Promise<{ status: string; closeTime: string } | undefined> {
  try {
    const description = await temporal.client.workflow.getHandle(workflowId).describe();
    return { status: description.status.name, closeTime: description.closeTime?.toISOString() ?? '?' };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
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
