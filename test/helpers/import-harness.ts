import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { createTargetPool } from '../../activities/database/connection';
import { readAllTableRecords, type TableRecord } from '../../activities/plan/table-queue';
import type { TaskRef } from '../../activities/task-types';
import { loadConfig } from '../../client/config/load';
import { targetSettingsOf, taskSettingsOf, taskWorkflowId } from '../../client/task-settings';
import { workerOptionsOf } from '../../client/worker-options';
import { createImportWorker } from '../../worker/create-worker';
import { taskSummaryQuery, type ImportTaskResult, type TaskSummary } from '../../workflows/definitions';
import { importTask } from '../../workflows/import-task';
import { testTarget } from './target-db';

export const tempestMain = path.resolve(__dirname, '../../client/main.js');

export interface ImportConfigOptions {
  sourceDir: string;
  temporalAddress: string;
  taskQueue: string;
  taskInfoSchema: string;
  user?: string;
  password?: string;
  /** More TOML, appended as it is (sections of its own). */
  extra?: string;
  /** `[lightning] table-concurrency` (2 unless given). */
  tableConcurrency?: number;
  /** Keys added to [lightning]. */
  lightning?: string;
  /** Keys added to [tikv-importer]. */
  importer?: string;
  /** Keys added to [mydumper]. */
  mydumper?: string;
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** Writes a tidb-lightning.toml for a test, as a user would, and returns its path. */
export function writeConfig(dir: string, options: ImportConfigOptions): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'tidb-lightning.toml');
  fs.writeFileSync(
    file,
    `[lightning]
region-concurrency = 2
table-concurrency = ${options.tableConcurrency ?? 2}
task-info-schema-name = ${JSON.stringify(options.taskInfoSchema)}
${options.lightning ?? ''}

[tikv-importer]
backend = "tidb"
${options.importer ?? ''}

[mydumper]
data-source-dir = ${JSON.stringify(options.sourceDir)}
${options.mydumper ?? ''}

[tidb]
host = ${JSON.stringify(testTarget.host)}
port = ${testTarget.port}
user = ${JSON.stringify(options.user ?? testTarget.user)}
password = ${JSON.stringify(options.password ?? testTarget.password)}

[post-restore]
checksum = "required"
analyze = "optional"

[checkpoint]
dsn = ${JSON.stringify(path.join(dir, 'tidb_lightning_checkpoint.pb'))}

[temporal]
address = ${JSON.stringify(options.temporalAddress)}
task-queue = ${JSON.stringify(options.taskQueue)}
heartbeat-timeout = "4s"

${options.extra ?? ''}
`,
  );
  return file;
}

/** Starts the task of a config file exactly as `tempest import` does (attaching if it runs already). */
export function startImport(client: Client, configPath: string): Promise<WorkflowHandle<typeof importTask>> {
  const config = loadConfig(configPath);
  return client.workflow.start(importTask, {
    taskQueue: config.temporal['task-queue'],
    workflowId: taskWorkflowId(config),
    args: [{ settings: taskSettingsOf(config), generation: 2 }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

export type TaskHandle = WorkflowHandle<typeof importTask>;

/** A table of a task as its table queue on the target records it. */
export type TaskTable = Pick<TableRecord, 'ordinal' | 'key' | 'schema' | 'name' | 'state' | 'status' | 'rows' | 'verify' | 'failure'>;

/** The task's id and task-info schema, as activities and `tempest ctl` name it (the id is its first run's id). */
export async function taskRefOf(handle: WorkflowHandle, configPath: string): Promise<TaskRef> {
  const description = await handle.describe();
  const taskId = description.raw.workflowExecutionInfo?.firstRunId || description.runId;
  return { taskId, taskInfoSchema: loadConfig(configPath).lightning['task-info-schema-name'] };
}

/** Every table of the task (removed ones left out), in plan order, from the table queue on the target; none before it is planned. */
export async function readTaskTables(handle: WorkflowHandle, configPath: string): Promise<TaskTable[]> {
  const task = await taskRefOf(handle, configPath);
  const pool = createTargetPool(targetSettingsOf(loadConfig(configPath)), 1);
  try {
    const records = await readAllTableRecords(pool, task, `state <> 'removed'`).catch((error: { errno?: number }) => {
      // Before the task has stored its plan (the table queue does not exist yet): no tables.
      if (error.errno === 1146) return [];
      throw error;
    });
    return records.map(({ ordinal, key, schema, name, state, status, rows, verify, failure }) => ({ ordinal, key, schema, name, state, status, rows, verify, failure }));
  } finally {
    await pool.end();
  }
}

/** The task's result once it ends, and each table's outcome (status, rows, verification, failure) from the target. */
export async function importOutcome(handle: TaskHandle, configPath: string): Promise<{ result: ImportTaskResult; tables: TaskTable[] }> {
  const result = (await handle.result()) as ImportTaskResult;
  return { result, tables: await readTaskTables(handle, configPath) };
}

/**
 * Polls the task's summary and its tables on the target until `reached` holds of them. The tables
 * come from the target, which `tempest ctl` changes before the task hears of it: a condition on
 * them does not pass on a summary the task has not brought up to date yet.
 */
export async function waitForTask(
  handle: TaskHandle,
  configPath: string,
  reached: (summary: TaskSummary, tables: TaskTable[]) => boolean,
): Promise<{ summary: TaskSummary; tables: TaskTable[] }> {
  for (;;) {
    const summary = await handle.query(taskSummaryQuery);
    const tables = await readTaskTables(handle, configPath);
    if (reached(summary, tables)) return { summary, tables };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Until the task waits for the operator: a table failed and none is queued or running (on the
 * target, so a `ctl` just sent is not mistaken for the wait it ended), and `also` holds.
 */
export function waitForOperator(
  handle: TaskHandle,
  configPath: string,
  also: (tables: TaskTable[], summary: TaskSummary) => boolean = () => true,
): Promise<{ summary: TaskSummary; tables: TaskTable[] }> {
  return waitForTask(
    handle,
    configPath,
    (summary, tables) =>
      summary.phase === 'waiting for operator' &&
      tables.some((table) => table.state === 'failed') &&
      tables.every((table) => table.state !== 'queued' && table.state !== 'running') &&
      also(tables, summary),
  );
}

/** Runs an in-process worker for a config until `work` settles. */
export async function withWorker<T>(connection: NativeConnection, temporalAddress: string, configPath: string, work: () => Promise<T>): Promise<T> {
  const config = loadConfig(configPath);
  const worker = await createImportWorker(workerOptionsOf(config, connection, temporalAddress));
  return worker.runUntil(work());
}

/** `tempest worker -c config` as its own process, as an operator starts it. */
export function spawnWorker(configPath: string, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(path.resolve(__dirname, '../../../bin/tempest'), ['worker', '-c', configPath], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return child;
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
