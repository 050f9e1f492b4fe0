import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { searchAttributeNames } from '../../workflows/search-attribute-names';
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

/** Where the embedded dev server keeps its history unless `[temporal] state-dir` says otherwise. */
export function defaultStateDir(): string {
  return path.join(process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'tempest');
}

/** The embedded server's options from the `[temporal]` section. */
export function embeddedServerOptions(temporal: { 'state-dir': string; 'dev-server-port': number; 'dev-server-ui-port': number }): DevServerOptions {
  return { stateDir: temporal['state-dir'] || defaultStateDir(), port: temporal['dev-server-port'], uiPort: temporal['dev-server-ui-port'] };
}

interface Starting {
  /** Settles once the server is spawned (or found running, or failed to start). */
  launched: Promise<void>;
  ready: Promise<DevServer>;
}

/** This process's server per state directory and port: asked for again, the same one (until stopped). */
const servers = new Map<string, Starting>();

/** The servers this process spawned and has not stopped yet, with their state directories. */
const spawned = new Map<ChildProcess, string>();

/**
 * Tells every server this process spawned to stop, even one still booting: for an interrupted
 * command, which exits at once and must not leave a server behind that nobody stops.
 */
export function stopSpawnedDevServers(): void {
  for (const [child, stateDir] of spawned) stopInBackground(child, stateDir);
}

/**
 * The embedded Temporal: a dev server keeping its history in a SQLite file under the state
 * directory, so an import interrupted in any way resumes after a restart. Reuses one already
 * listening on the port (another `tempest import`, or one left running by a killed one).
 */
export function ensureDevServer(options: DevServerOptions): Promise<DevServer> {
  return starting(options).ready;
}

/**
 * Starts the embedded server without waiting for it to listen: it boots (most of a second of its
 * own CPU) while this process loads the rest of Tempest. A failure surfaces at ensureDevServer.
 */
export function launchDevServer(options: DevServerOptions): Promise<void> {
  return starting(options).launched;
}

function starting(options: DevServerOptions): Starting {
  const key = `${options.stateDir}\0${options.port}`;
  let entry = servers.get(key);
  if (!entry) {
    let markLaunched = () => {};
    const launched = new Promise<void>((resolve) => (markLaunched = resolve));
    const ready = startOrReuse(options, markLaunched, () => servers.delete(key));
    ready.then(markLaunched, () => {
      servers.delete(key);
      markLaunched();
    });
    entry = { launched, ready };
    servers.set(key, entry);
  }
  return entry;
}

async function startOrReuse(options: DevServerOptions, launched: () => void, forget: () => void): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiAddress = `http://127.0.0.1:${options.uiPort}`;
  await waitForStoppingServer(options.stateDir);
  if (await isListening(options.port)) {
    return {
      address,
      uiAddress,
      startedHere: false,
      stop: async () => {
        forget();
      },
    };
  }

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
      // SQLite's default journal syncs the disk two or three times per history write: a third of the
      // server's CPU in an import. A write-ahead log survives the server being killed; only a power cut
      // can lose its last writes, and then the chunks that re-run resume from the target's progress table.
      '--sqlite-pragma', 'journal_mode=wal',
      '--sqlite-pragma', 'synchronous=normal',
      '--log-level', 'warn',
      // One partition per task queue: with the default four, a chunk queued in a partition no poller
      // is on waits (measured: a region slot idle 1.2-1.4 s, twice in one import) while one polls another.
      '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
      '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
      // What `temporal workflow list --query` finds a task by (workflows/search-attributes.ts).
      ...Object.values(searchAttributeNames).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  spawned.set(child, options.stateDir);
  launched();
  await waitUntilListening(options.port, child, path.join(options.stateDir, 'temporal-server.log'));
  return {
    address,
    uiAddress,
    startedHere: true,
    stop: async () => {
      forget();
      stopInBackground(child, options.stateDir);
    },
  };
}

/** Where a server still shutting down leaves its pid: until it is gone, its port is no server to use. */
function stoppingMarker(stateDir: string): string {
  return path.join(stateDir, 'temporal-server.stopping');
}

function stopInBackground(child: ChildProcess, stateDir: string): void {
  spawned.delete(child);
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
