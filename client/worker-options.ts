import type { NativeConnection } from '@temporalio/worker';
import type { ImportWorkerOptions } from '../worker/create-worker';
import type { Config } from './config/schema';
import { targetSettingsOf } from './task-settings';

/** A worker for the task queue of `config`, holding its secrets (target password, checkpoint DSN). */
export function workerOptionsOf(config: Config, connection: NativeConnection, temporalAddress: string): ImportWorkerOptions {
  return {
    connection,
    temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal['task-queue'],
    target: targetSettingsOf(config),
    regionConcurrency: config.lightning['region-concurrency'],
    checkpointDsn: config.checkpoint.driver === 'mysql' && config.checkpoint.dsn ? config.checkpoint.dsn : undefined,
  };
}
