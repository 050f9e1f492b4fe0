import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { uniqueName } from './target-db';

const clusterScript = path.resolve(__dirname, '../../../scripts/temporal-cluster.sh');

export interface TemporalCluster {
  /** The frontend, for `[temporal] address`. */
  address: string;
  /** Where its config, log and dynamic config are. */
  stateDir: string;
  /** Stops the server; its history stays in PostgreSQL. */
  stop(): Promise<void>;
  /** Starts it again on the same port and history. */
  start(): Promise<void>;
  /** Stops the server and drops its PostgreSQL databases. */
  destroy(): Promise<void>;
}

export interface TemporalClusterOptions {
  /** The server's dynamic config, as YAML (none: Temporal's defaults, four partitions per task queue). */
  dynamicConfig?: string;
}

/**
 * A Temporal server as an operator runs one (scripts/temporal-cluster.sh): persistence and visibility
 * on the local PostgreSQL, in databases of its own, its frontend on a free port.
 */
export async function startTemporalCluster(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-cluster-'));
  const port = await freePort();
  const args = ['start', '--state-dir', stateDir, '--port', String(port), '--database', uniqueName('tempest_temporal')];
  if (options.dynamicConfig !== undefined) {
    const file = path.join(stateDir, 'dynamicconfig.yaml');
    fs.writeFileSync(file, options.dynamicConfig);
    args.push('--dynamic-config', file);
  }
  const destroy = async () => {
    await run(['destroy', '--state-dir', stateDir]);
  };
  try {
    await run(args);
  } catch (error) {
    await destroy().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  return {
    address: `127.0.0.1:${port}`,
    stateDir,
    stop: () => run(['stop', '--state-dir', stateDir]),
    start: () => run(['start', '--state-dir', stateDir]),
    destroy,
  };
}

async function run(args: string[]): Promise<void> {
  try {
    await promisify(execFile)('bash', [clusterScript, ...args], { maxBuffer: 1 << 20 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`scripts/temporal-cluster.sh ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}
