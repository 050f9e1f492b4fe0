import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { findTemporalBinary } from './temporal-binary';
import { UserError } from '../user-error';

export interface DevServerOptions {
  stateDir: string;
  port: number;
  uiPort: number;
}

export interface DevServer {
  address: string;
  uiAddress: string;
  /** Whether this process started it (and so stops it); false when one was already listening. */
  startedHere: boolean;
  stop(): Promise<void>;
}

/**
 * The embedded Temporal: a dev server keeping its history in a SQLite file under the state
 * directory, so an import interrupted in any way resumes after a restart. Reuses one already
 * listening on the port (another `tempest import`, or one left running by a killed one).
 */
export async function ensureDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiAddress = `http://127.0.0.1:${options.uiPort}`;
  if (await isListening(options.port)) return { address, uiAddress, startedHere: false, stop: async () => {} };

  fs.mkdirSync(options.stateDir, { recursive: true });
  const log = fs.openSync(path.join(options.stateDir, 'temporal-server.log'), 'a');
  const child = spawn(
    findTemporalBinary(),
    [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(options.port),
      '--ui-port', String(options.uiPort),
      '--db-filename', path.join(options.stateDir, 'temporal.sqlite'),
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  await waitUntilListening(options.port, child, path.join(options.stateDir, 'temporal-server.log'));
  return {
    address,
    uiAddress,
    startedHere: true,
    stop: () => stopProcess(child),
  };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilListening(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new UserError(`the Temporal dev server exited with code ${child.exitCode}; see ${logFile}`);
    if (await isListening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new UserError(`the Temporal dev server did not start listening on port ${port} within 60 s; see ${logFile}`);
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
