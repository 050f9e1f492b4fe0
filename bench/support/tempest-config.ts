import fsp from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../../test/helpers/free-port';

export interface BenchTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface TempestRunConfig {
  /** Who wrote it, for the file's first line. */
  writtenBy: string;
  /** Where the config, the dev server's history and its logs go. */
  stateDir: string;
  target: BenchTarget;
  /** region- and table-concurrency. */
  concurrency: number;
  taskInfoSchema: string;
  sourceDir: string;
  /** The dump's database, routed to `targetSchema`. */
  sourceSchema: string;
  targetSchema: string;
  /** Extra `[tikv-importer]` and `[mydumper]` lines. */
  importer?: string;
  mydumper?: string;
  checksum: string;
  analyze: string;
  logProgress: string;
  /** A Temporal server of the bench's own (workers run apart); unset: an embedded dev server. */
  temporalAddress?: string;
  /** More `[temporal]` lines. */
  temporal?: string;
}

/**
 * Writes the tidb-lightning.toml of one benchmark run of `tempest import`: on its own embedded dev
 * server (free ports, the run's state directory), routed into a database of its own. Returns its path.
 */
export async function writeTempestConfig(config: TempestRunConfig): Promise<{ path: string; toml: string }> {
  const [port, uiPort] = [await freePort(), await freePort()];
  const toml = `# Written by ${config.writtenBy}
[lightning]
region-concurrency = ${config.concurrency}
table-concurrency = ${config.concurrency}
task-info-schema-name = ${JSON.stringify(config.taskInfoSchema)}

[tikv-importer]
backend = "tidb"
${config.importer ?? ''}

[mydumper]
data-source-dir = ${JSON.stringify(config.sourceDir)}
${config.mydumper ?? ''}

[tidb]
host = ${JSON.stringify(config.target.host)}
port = ${config.target.port}
user = ${JSON.stringify(config.target.user)}
password = ${JSON.stringify(config.target.password)}

[[routes]]
schema-pattern = ${JSON.stringify(config.sourceSchema)}
target-schema = ${JSON.stringify(config.targetSchema)}

[post-restore]
checksum = ${JSON.stringify(config.checksum)}
analyze = ${JSON.stringify(config.analyze)}

[checkpoint]
dsn = ${JSON.stringify(path.join(config.stateDir, 'checkpoint.pb'))}

[cron]
log-progress = ${JSON.stringify(config.logProgress)}

[temporal]
${config.temporalAddress ? `address = ${JSON.stringify(config.temporalAddress)}` : `state-dir = ${JSON.stringify(config.stateDir)}\ndev-server-port = ${port}\ndev-server-ui-port = ${uiPort}`}
${config.temporal ?? ''}
`;
  const configPath = path.join(config.stateDir, 'tidb-lightning.toml');
  await fsp.writeFile(configPath, toml);
  return { path: configPath, toml };
}
