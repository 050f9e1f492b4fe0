import { WorkflowNotFoundError } from '@temporalio/client';
import { checkpointCtlUpdate, type CheckpointCtlRequest } from '../../workflows/definitions';
import { readTaskCheckpoint } from '../../activities/checkpoint/read-task-checkpoint';
import { writeCheckpointDump } from '../../activities/checkpoint/csv-dump';
import { createTargetPool } from '../../activities/database/connection';
import type { Config } from '../config/schema';
import { targetSettingsOf } from '../task-settings';
import { withTaskSession } from '../temporal/task-session';
import { UserError } from '../user-error';

export interface CtlOptions {
  requests: CheckpointCtlRequest[];
  dumpDir?: string;
  selector: string;
}

/** `tempest ctl`: the `tidb-lightning-ctl` checkpoint commands, sent to the running task. */
export function runCtl(config: Config, options: CtlOptions, out: (line: string) => void): Promise<number> {
  if (options.requests.length === 0 && !options.dumpDir) {
    throw new UserError('nothing to do: give --checkpoint-error-ignore, --checkpoint-error-destroy, --checkpoint-remove or --checkpoint-dump');
  }
  return withTaskSession(config, async (temporal, task) => {
    let running: boolean;
    try {
      running = (await task.describe()).status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new UserError(`no task ${task.workflowId}: nothing to change (start it with \`tempest import ${options.selector}\`)`);
      throw error;
    }
    if (options.requests.length > 0 && !running) throw new UserError(`task ${task.workflowId} is not running any more: its checkpoints cannot change`);
    let changed = 0;
    for (const request of options.requests) {
      const response = await task.executeUpdate(checkpointCtlUpdate, { args: [request] });
      response.messages.forEach((message) => out(message));
      changed += response.changed.length;
    }
    if (changed > 0 && temporal.devServer) out(`run \`tempest import ${options.selector}\` to carry on with the task and follow it`);
    if (options.dumpDir) {
      const pool = createTargetPool(targetSettingsOf(config), 2);
      try {
        const { model } = await readTaskCheckpoint(temporal.client, pool, config.lightning['task-info-schema-name'], task.workflowId);
        const files = await writeCheckpointDump(options.dumpDir, model);
        out(`checkpoint dumped: ${files.join(', ')}`);
      } finally {
        await pool.end();
      }
    }
    return 0;
  });
}
