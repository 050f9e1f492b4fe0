import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type ConfigOverrides } from './config/load';
import type { CheckpointCtlRequest } from '../workflows/definitions';
import { taskSelector } from './commands/operator-help';
import { embeddedServerOptions, launchDevServer } from './temporal/dev-server';
import { UserError } from './user-error';
import type { Config } from './config/schema';
import { exitCodes } from './exit-codes';
import { explainOperationalError } from './operational-errors';

/*
 * Each command's module (and with it Temporal's SDK, a few hundred milliseconds to load) is loaded
 * when the command runs: `import` first starts the embedded Temporal server, which boots meanwhile.
 */
const commands = {
  import: () => require('./commands/import') as typeof import('./commands/import'),
  worker: () => require('./commands/worker') as typeof import('./commands/worker'),
  status: () => require('./commands/status') as typeof import('./commands/status'),
  ctl: () => require('./commands/ctl') as typeof import('./commands/ctl'),
  checkpointExport: () => require('./commands/checkpoint-export') as typeof import('./commands/checkpoint-export'),
};

const out = (line: string) => process.stdout.write(line + '\n');

function parseBoolean(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('expected true or false');
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('expected a port number');
  return port;
}

/** The `tidb-lightning` flags that override the config file, on every command that reads it. */
function withConfigFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'tidb-lightning.toml')
    .option('-d, --data-source-dir <dir>', 'the dump to import ([mydumper] data-source-dir)')
    .option('-L, --log-level <level>', '[lightning] level')
    .option('-f, --filter <rule>', 'table filter rule, repeatable ([mydumper] filter)', (rule: string, rules: string[] = []) => [...rules, rule])
    .option('--backend <backend>', '[tikv-importer] backend (only "tidb")')
    .option('--tidb-host <host>', '[tidb] host')
    .option('--tidb-port <port>', '[tidb] port', parsePort)
    .option('--tidb-user <user>', '[tidb] user')
    .option('--tidb-password <password>', '[tidb] password')
    .option('--checksum <level>', '[post-restore] checksum: required, optional or off')
    .option('--analyze <level>', '[post-restore] analyze: required, optional or off')
    .option('--check-requirements <bool>', '[lightning] check-requirements', parseBoolean)
    .option('--enable-checkpoint <bool>', '[checkpoint] enable', parseBoolean)
    .option('--temporal-address <host:port>', '[temporal] address (default: an embedded dev server)');
}

function configFrom(options: Record<string, unknown>) {
  const overrides: ConfigOverrides = {
    sourceDir: options.dataSourceDir as string | undefined,
    logLevel: options.logLevel as string | undefined,
    filter: options.filter as string[] | undefined,
    backend: options.backend as string | undefined,
    tidbHost: options.tidbHost as string | undefined,
    tidbPort: options.tidbPort as number | undefined,
    tidbUser: options.tidbUser as string | undefined,
    tidbPassword: options.tidbPassword as string | undefined,
    checksum: options.checksum as string | undefined,
    analyze: options.analyze as string | undefined,
    checkRequirements: options.checkRequirements as boolean | undefined,
    enableCheckpoint: options.enableCheckpoint as boolean | undefined,
    temporalAddress: options.temporalAddress as string | undefined,
  };
  return loadConfig(options.config as string | undefined, overrides, (line) => process.stderr.write(`tempest: warning: ${line}\n`));
}

/**
 * Runs a command on its configuration. An operational failure (Temporal, the target or a worker
 * not answering, no such task) leaves as one message and its exit code, never a stack trace.
 */
async function withConfig(options: Record<string, unknown>, run: (config: Config) => Promise<number>): Promise<number> {
  const config = configFrom(options);
  try {
    return await run(config);
  } catch (error) {
    throw (
      explainOperationalError(error, {
        temporalAddress: config.temporal.address || `127.0.0.1:${config.temporal['dev-server-port']}`,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal['task-queue'],
        target: { host: config.tidb.host, port: config.tidb.port },
        selector: taskSelector(options),
      }) ?? error
    );
  }
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('tempest')
    .description('Durable imports of Dumpling/mydumper dumps, CSV and Parquet into MySQL-compatible databases, on Temporal')
    .showHelpAfterError();

  withConfigFlags(program.command('import').description('import the dump: start the task, or attach to it if it is already running'))
    .addOption(new Option('--detach', 'start the task and return without following it'))
    .action(async (options) => {
      exitCode = await withConfig(options, async (config) => {
        // With --detach and no address, import refuses at once: nothing to start then.
        if (!config.temporal.address && !options.detach) await launchDevServer(embeddedServerOptions(config.temporal));
        return commands.import().runImport(config, { detach: Boolean(options.detach), selector: taskSelector(options), out });
      });
    });

  withConfigFlags(program.command('worker').description('run a worker for the configured Temporal task queue until stopped')).action(async (options) => {
    exitCode = await withConfig(options, (config) => commands.worker().runWorker(config, out));
  });

  withConfigFlags(program.command('status').description('print where the task of this config stands'))
    .option('--json', 'one JSON document, for scripts')
    .action(async (options) => {
      exitCode = await withConfig(options, (config) => commands.status().runStatus(config, { selector: taskSelector(options), json: Boolean(options.json) }, out));
    });

  const repeatable = (value: string, previous: string[] = []) => [...previous, value];
  withConfigFlags(program.command('ctl').description('tidb-lightning-ctl checkpoint commands for the running task'))
    .option('--checkpoint-error-ignore <table>', 'a failed table (`db`.`t`, or all) resumes from its chunk positions', repeatable)
    .option('--checkpoint-error-destroy <table>', 'a failed table (`db`.`t`, or all) is dropped and imported again from scratch', repeatable)
    .option('--checkpoint-remove <table>', "a table's (`db`.`t`, or all) checkpoint is removed: it leaves the task", repeatable)
    .option('--checkpoint-dump <dir>', 'write tables.csv, engines.csv and chunks.csv')
    .action(async (options) => {
      const requests: CheckpointCtlRequest[] = [];
      const add = (action: CheckpointCtlRequest['action'], names: string[] | undefined) => {
        for (const name of names ?? []) requests.push({ action, tables: name === 'all' ? 'all' : [name] });
      };
      add('ignore', options.checkpointErrorIgnore);
      add('destroy', options.checkpointErrorDestroy);
      add('remove', options.checkpointRemove);
      exitCode = await withConfig(options, (config) => commands.ctl().runCtl(config, { requests, dumpDir: options.checkpointDump, selector: taskSelector(options) }, out));
    });

  withConfigFlags(program.command('checkpoint').command('export').description("write the task's checkpoint in Lightning's file or MySQL format"))
    .addOption(new Option('--driver <driver>', 'file or mysql (default: [checkpoint] driver)').choices(['file', 'mysql']))
    .option('--output <file>', 'the .pb file of the file driver (default: [checkpoint] dsn)')
    .option('--schema <schema>', 'the schema of the mysql driver (default: [checkpoint] schema)')
    .action(async (options) => {
      exitCode = await withConfig(options, (config) =>
        commands.checkpointExport().runCheckpointExport(config, { driver: options.driver, output: options.output, schema: options.schema }, out),
      );
    });

  await program.parseAsync(argv);
  return exitCode;
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`tempest: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`tempest: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(exitCodes.internal);
  },
);
