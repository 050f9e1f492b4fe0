import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/schema';
import { embeddedServerOptions, ensureDevServer, type DevServer } from './dev-server';
import { temporalUnreachable } from '../operational-errors';

export interface TemporalSession {
  client: Client;
  address: string;
  namespace: string;
  taskQueue: string;
  /** Where this machine keeps Tempest's own files (the embedded server's history, logs). */
  stateDir: string;
  /** Set when no address was configured and the embedded dev server is in use. */
  devServer?: DevServer;
  /** Where a person sees the task: the embedded server's Web UI, or `[temporal] web-ui`; undefined when unknown. */
  webUi?: string;
  close(): Promise<void>;
}

/** Connects to the configured Temporal, or to the embedded dev server (started if need be). */
export async function connectTemporal(config: Config): Promise<TemporalSession> {
  const temporal = config.temporal;
  const { stateDir } = embeddedServerOptions(temporal);
  const devServer = temporal.address ? undefined : await ensureDevServer(embeddedServerOptions(temporal));
  const address = temporal.address || devServer!.address;
  // A server that is down should be reported while the user still looks, not after the SDK's 10 s.
  const connection = await Connection.connect({ address, connectTimeout: '5s' }).catch((error: unknown) => {
    void devServer?.stop();
    throw temporalUnreachable(address, error);
  });
  return {
    client: new Client({ connection, namespace: temporal.namespace }),
    address,
    stateDir,
    namespace: temporal.namespace,
    taskQueue: temporal['task-queue'],
    devServer,
    webUi: devServer?.uiAddress ?? (temporal['web-ui'].replace(/\/+$/, '') || undefined),
    close: async () => {
      await connection.close();
      await devServer?.stop();
    },
  };
}
