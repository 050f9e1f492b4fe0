import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/schema';
import { ensureDevServer, type DevServer } from './dev-server';

export interface TemporalSession {
  client: Client;
  address: string;
  namespace: string;
  taskQueue: string;
  /** Where this machine keeps Tempest's own files (the embedded server's history, logs). */
  stateDir: string;
  /** Set when no address was configured and the embedded dev server is in use. */
  devServer?: DevServer;
  close(): Promise<void>;
}

/** Where the embedded dev server keeps its history unless `[temporal] state-dir` says otherwise. */
export function defaultStateDir(): string {
  return path.join(process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'tempest');
}

/** Connects to the configured Temporal, or to the embedded dev server (started if need be). */
export async function connectTemporal(config: Config): Promise<TemporalSession> {
  const temporal = config.temporal;
  const stateDir = temporal['state-dir'] || defaultStateDir();
  const devServer = temporal.address
    ? undefined
    : await ensureDevServer({ stateDir, port: temporal['dev-server-port'], uiPort: temporal['dev-server-ui-port'] });
  const address = temporal.address || devServer!.address;
  const connection = await Connection.connect({ address });
  return {
    client: new Client({ connection, namespace: temporal.namespace }),
    address,
    stateDir,
    namespace: temporal.namespace,
    taskQueue: temporal['task-queue'],
    devServer,
    close: async () => {
      await connection.close();
      await devServer?.stop();
    },
  };
}
