import { WorkflowNotFoundError } from '@temporalio/client';
import path from 'node:path';
import { saveCheckpoint, type CheckpointStore } from '../../activities/checkpoint/checkpoint-store';
import { parseMysqlDsn } from '../../activities/checkpoint/mysql-dsn';
import { readStoredCheckpoint } from '../../activities/checkpoint/read-stored-checkpoint';
import { createTargetPool } from '../../activities/database/connection';
import type { Config } from '../config/schema';
import { targetSettingsOf } from '../task-settings';
import { describeTask, withTaskSession } from '../temporal/task-session';
import { UserError } from '../user-error';

export interface ExportOptions {
  driver?: 'file' | 'mysql';
  output?: string;
  schema?: string;
}

/**
 * `tempest checkpoint export`: the task's checkpoint, running or finished, written as Lightning's
 * file checkpoint (.pb) or into its MySQL checkpoint tables.
 */
export function runCheckpointExport(config: Config, options: ExportOptions, out: (line: string) => void): Promise<number> {
  const driver = options.driver ?? config.checkpoint.driver;
  return withTaskSession(config, async (_temporal, task) => {
    const target = createTargetPool(targetSettingsOf(config), 2);
    // [checkpoint] dsn speaks of the configured driver: exporting to the other one ignores it.
    const dsn = driver === config.checkpoint.driver ? config.checkpoint.dsn : '';
    const checkpointDsn = driver === 'mysql' && dsn ? parseMysqlDsn(dsn) : undefined;
    if (driver === 'mysql' && dsn && !checkpointDsn) throw new UserError('[checkpoint] dsn: write it as user:password@tcp(host:port)/');
    const checkpointPool = checkpointDsn ? createTargetPool({ ...targetSettingsOf(config), ...checkpointDsn }, 2) : undefined;
    try {
      let model;
      try {
        const { taskId } = await describeTask(task);
        model = await readStoredCheckpoint(target, { taskId, taskInfoSchema: config.lightning['task-info-schema-name'] });
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new UserError(`no task ${task.workflowId}: nothing to export`);
        throw error;
      }
      const store: CheckpointStore =
        driver === 'file'
          ? { driver, path: path.resolve(options.output ?? (dsn || '/tmp/tidb_lightning_checkpoint.pb')) }
          : { driver, pool: checkpointPool ?? target, schema: options.schema ?? config.checkpoint.schema };
      await saveCheckpoint(store, model);
      const chunks = model.tables.reduce((sum, table) => sum + table.engines.reduce((count, engine) => count + engine.chunks.length, 0), 0);
      out(`checkpoint of ${model.tables.length} tables and ${chunks} chunks written to ${store.driver === 'file' ? store.path : `schema ${store.schema}`}`);
      return 0;
    } finally {
      await target.end();
      await checkpointPool?.end();
    }
  });
}
