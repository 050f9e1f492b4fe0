import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'mysql2/promise';
import { keeperHeartbeatMs } from '../activities/checkpoint/keep-checkpoint';
import { parseMysqlDsn } from '../activities/checkpoint/mysql-dsn';
import { UserError } from '../client/user-error';
import { chunkTaskQueue } from '../workflows/task-queues';
import { chunkActivityNames, createActivities } from '../activities';
import { createTargetPool, type TargetSettings } from '../activities/database/connection';
import { workflowBundle } from './workflow-bundle';

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
}

/** The workers of one process: started together, stopped together; the pools close when both have stopped. */
export interface ImportWorker {
  run(): Promise<void>;
  /** Runs until `work` settles, then stops; returns what `work` gave. */
  runUntil<T>(work: Promise<T>): Promise<T>;
  shutdown(): void;
}

/**
 * Runs import workflows and activities, writing to the target with its own credentials. Chunks run
 * on a task queue of their own, so at most `region-concurrency` of them run in this process
 * whatever else (planning, verification, snapshots) runs beside them.
 */
export async function createImportWorker(options: ImportWorkerOptions): Promise<ImportWorker> {
  const pool = createTargetPool(options.target, options.regionConcurrency + 4);
  const checkpointPool = checkpointPoolOf(options);
  let client: Promise<Client> | undefined;
  const temporalClient = () =>
    (client ??= Connection.connect({ address: options.temporalAddress }).then((connection) => new Client({ connection, namespace: options.namespace })));
  const activities: Record<string, unknown> = createActivities({ pool, checkpointPool, temporalClient });
  const writesRows = (name: string) => (chunkActivityNames as readonly string[]).includes(name);
  const taskActivities = Object.fromEntries(Object.entries(activities).filter(([name]) => !writesRows(name)));
  const chunkActivities = Object.fromEntries(Object.entries(activities).filter(([name]) => writesRows(name)));
  const common = { connection: options.connection, namespace: options.namespace };
  const workers = [
    await Worker.create({
      ...common,
      taskQueue: options.taskQueue,
      activities: options.workflowsOnly ? undefined : taskActivities,
      // Setup's prebuilt bundle (see workflow-bundle.ts).
      workflowBundle: await workflowBundle(),
      maxConcurrentActivityTaskExecutions: 4,
      // The checkpoint keeper learns of its cancellation from a heartbeat's answer: sent this often, it ends promptly.
      maxHeartbeatThrottleInterval: keeperHeartbeatMs,
    }),
  ];
  if (!options.workflowsOnly) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: chunkTaskQueue(options.taskQueue),
        activities: chunkActivities,
        maxConcurrentActivityTaskExecutions: options.regionConcurrency,
        // A chunk that notices cancellation stops at its next batch; give it time to commit that batch.
        shutdownGraceTime: '10 seconds',
        // Each commit heartbeats; the server hears of it at most this often (by default, only every
        // 0.8 × the heartbeat timeout), and live progress is read from what it heard.
        maxHeartbeatThrottleInterval: '1 second',
      }),
    );
  }
  const close = async () => {
    await pool.end();
    await checkpointPool?.end();
    await (await client)?.connection.close();
  };
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  const run = async () => {
    try {
      // One stopping (a fatal error) stops the other too.
      await Promise.all(workers.map((worker) => worker.run().finally(shutdown)));
    } finally {
      await close();
    }
  };
  return {
    run,
    shutdown,
    runUntil: async (work) => {
      const running = run();
      try {
        return await work;
      } finally {
        shutdown();
        await running;
      }
    },
  };
}

function checkpointPoolOf(options: ImportWorkerOptions): Pool | undefined {
  if (!options.checkpointDsn) return undefined;
  const dsn = parseMysqlDsn(options.checkpointDsn);
  if (!dsn) throw new UserError('[checkpoint] dsn: write it as user:password@tcp(host:port)/ for the mysql driver');
  return createTargetPool({ ...options.target, ...dsn }, 2);
}
