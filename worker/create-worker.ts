import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'mysql2/promise';
import { parseMysqlDsn } from '../activities/checkpoint/mysql-dsn';
import { UserError } from '../client/user-error';
import { createActivities } from '../activities';
import { createTargetPool, type TargetSettings } from '../activities/target/connection';

export interface ImportWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  target: TargetSettings;
  /** Chunks this worker imports at once (`region-concurrency`). */
  regionConcurrency: number;
  /** For activities that read the task's own state (checkpoint snapshots). */
  temporalAddress: string;
  /** `[checkpoint] dsn` of the MySQL driver, when it names a server of its own (it holds a password). */
  checkpointDsn?: string;
  /**
   * Without activities it only runs workflow code: enough to answer queries and take `ctl` updates
   * while no import runs, without importing anything itself.
   */
  workflowsOnly?: boolean;
  /** A prebuilt workflow bundle (tests build one once); by default the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** A worker that runs import workflows and activities, writing to the target with its own credentials. */
export async function createImportWorker(options: ImportWorkerOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  // Besides the chunks: planning, verification and schema work run alongside.
  const activitySlots = options.regionConcurrency + 2;
  const pool = createTargetPool(options.target, activitySlots + 2);
  const checkpointPool = checkpointPoolOf(options);
  let client: Promise<Client> | undefined;
  const temporalClient = () =>
    (client ??= Connection.connect({ address: options.temporalAddress }).then((connection) => new Client({ connection, namespace: options.namespace })));
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.workflowsOnly ? undefined : createActivities({ pool, checkpointPool, temporalClient }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    maxConcurrentActivityTaskExecutions: activitySlots,
    // A chunk that notices cancellation stops at its next batch; give it time to commit that batch.
    shutdownGraceTime: '10 seconds',
  });
  return {
    worker,
    close: async () => {
      await pool.end();
      await checkpointPool?.end();
      await (await client)?.connection.close();
    },
  };
}

function checkpointPoolOf(options: ImportWorkerOptions): Pool | undefined {
  if (!options.checkpointDsn) return undefined;
  const dsn = parseMysqlDsn(options.checkpointDsn);
  if (!dsn) throw new UserError('[checkpoint] dsn: write it as user:password@tcp(host:port)/ for the mysql driver');
  return createTargetPool({ ...options.target, ...dsn }, 2);
}
