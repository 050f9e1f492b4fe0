import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../client/config/load';
import { taskSettingsOf, taskWorkflowId } from '../../client/task-settings';
import { workerOptionsOf } from '../../client/worker-options';
import { createImportWorker } from '../../worker/create-worker';
import { importTask } from '../../workflows/import-task';
import { mariadb } from './target-db';

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
host = ${JSON.stringify(mariadb.host)}
port = ${mariadb.port}
user = ${JSON.stringify(options.user ?? mariadb.user)}
password = ${JSON.stringify(options.password ?? mariadb.password)}

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
    args: [{ settings: taskSettingsOf(config) }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
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
