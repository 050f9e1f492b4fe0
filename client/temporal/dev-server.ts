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
  /**
   * Asks it to stop and returns: its orderly shutdown takes ~1.5 s that no user should wait for.
   * The next ensureDevServer on the same state directory waits until it has exited.
   */
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
  await waitForStoppingServer(options.stateDir);
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
    stop: async () => stopInBackground(child, options.stateDir),
  };
}

/** Where a server still shutting down leaves its pid: until it is gone, its port is no server to use. */
function stoppingMarker(stateDir: string): string {
  return path.join(stateDir, 'temporal-server.stopping');
}

function stopInBackground(child: ChildProcess, stateDir: string): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  fs.writeFileSync(stoppingMarker(stateDir), String(child.pid));
  child.kill('SIGTERM');
  // This process may exit now; the server finishes its shutdown on its own.
  child.unref();
}

async function waitForStoppingServer(stateDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(stoppingMarker(stateDir), 'utf8'));
  } catch {
    return;
  }
  const deadline = Date.now() + 15_000;
  while (isRunningTemporal(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fs.rmSync(stoppingMarker(stateDir), { force: true });
}

/** Whether `pid` is still a running Temporal server (not a later process that was given its number). */
function isRunningTemporal(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('start-dev') && !fs.readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z ');
  } catch {
    return false;
  }
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
    // It usually listens within a tenth of a second: poll often.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new UserError(`the Temporal dev server did not start listening on port ${port} within 60 s; see ${logFile}`);
}
