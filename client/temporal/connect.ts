import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/schema';
import { embeddedServerOptions, ensureDevServer, type DevServer } from './dev-server';

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

/** Connects to the configured Temporal, or to the embedded dev server (started if need be). */
export async function connectTemporal(config: Config): Promise<TemporalSession> {
  const temporal = config.temporal;
  const { stateDir } = embeddedServerOptions(temporal);
  const devServer = temporal.address ? undefined : await ensureDevServer(embeddedServerOptions(temporal));
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
