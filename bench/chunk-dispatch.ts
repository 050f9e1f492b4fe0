/**
 * Chunk dispatch on a Temporal cluster of one's own (scripts/temporal-cluster.sh): how many chunks a
 * second go out to 1 and to 3 `tempest worker` processes, with Temporal's default four partitions
 * per task queue and with one. Entry point: `bash bench/chunk-dispatch.sh [options]`.
 *
 * `--tables` tables (3) of `--files` tiny SQL files in all (`--rows` rows each), so that a chunk's own
 * work is small and the time between chunks is mostly dispatch. A table has at most
 * region-concurrency (2) chunks in flight and all tables load at once, so 3 tables keep 6 chunk
 * slots busy: those of 3 workers, or 3 times those of one. For each partition count a server of its own
 * (its own PostgreSQL databases, dropped afterwards); for each worker count a fresh target database
 * and task queue. From the histories it prints, per run: chunks per second over the chunk phase,
 * how long chunks sat queued, and the slot-seconds a worker slot was free while a chunk sat queued
 * (what slow dispatch costs).
 *
 * Options: --files N (300), --tables N (3), --rows N (5), --workers 1,3, --partitions 4,1, --rounds N (1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { Client, Connection as TemporalConnection } from '@temporalio/client';
import { makeTempDir, spawnWorker, tempestMain, waitForExit, writeConfig } from '../test/helpers/import-harness';
import { adminConnection, dropDatabases, uniqueName } from '../test/helpers/target-db';
import { startTemporalCluster } from '../test/helpers/temporal-cluster';
import { chunkRuns, dispatchFigures } from './support/chunk-timeline';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '300' },
    tables: { type: 'string', default: '3' },
    rows: { type: 'string', default: '5' },
    workers: { type: 'string', default: '1,3' },
    partitions: { type: 'string', default: '4,1' },
    rounds: { type: 'string', default: '1' },
  },
});
const files = Number(args.files);
const tables = Number(args.tables);
const rowsPerFile = Number(args.rows);
const workerCounts = args.workers.split(',').map(Number);
const partitionCounts = args.partitions.split(',').map(Number);
const rounds = Number(args.rounds);
/** writeConfig's `[lightning] region-concurrency`: each worker's chunk slots. */
const slotsPerWorker = 2;
const sourceSchema = 'dispatch_src';

function writeDump(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${sourceSchema}-schema-create.sql`), `CREATE DATABASE \`${sourceSchema}\`;\n`);
  for (let table = 0; table < tables; table++) {
    fs.writeFileSync(path.join(dir, `${sourceSchema}.t${table}-schema.sql`), `CREATE TABLE \`t${table}\` (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL);\n`);
  }
  for (let file = 0; file < files; file++) {
    const values = Array.from({ length: rowsPerFile }, (_, row) => `(${file * rowsPerFile + row},'v${row}')`).join(',');
    fs.writeFileSync(path.join(dir, `${sourceSchema}.t${file % tables}.${String(file).padStart(6, '0')}.sql`), `INSERT INTO \`t${file % tables}\` VALUES ${values};\n`);
  }
}

/** No override: Temporal's default of four. Otherwise both the read and the write partition counts. */
function partitionConfig(partitions: number): string | undefined {
  if (partitions === 4) return undefined;
  return ['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions'].map((key) => `${key}:\n  - value: ${partitions}\n`).join('');
}

function run(command: string, argv: string[]): Promise<number | null> {
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.once('exit', resolve));
}

async function waitForLines(file: string, pattern: RegExp, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if ((text.match(pattern) ?? []).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the workers did not start within 60 s; see ${file}`);
}

async function main(): Promise<void> {
  const dir = makeTempDir('tempest-bench-dispatch');
  const dumpDir = path.join(dir, 'dump');
  writeDump(dumpDir);
  const db = await adminConnection();
  console.log(`${files} files of ${rowsPerFile} rows in ${tables} tables, all loading at once; ${slotsPerWorker} chunk slots per worker`);
  console.log('partitions  workers  chunks/s  phase s  queued p50/p90/max ms  slot-s free while a chunk was queued');
  try {
    for (const partitions of partitionCounts) {
      const cluster = await startTemporalCluster({ dynamicConfig: partitionConfig(partitions) });
      const connection = await TemporalConnection.connect({ address: cluster.address });
      const client = new Client({ connection });
      try {
        for (let round = 0; round < rounds; round++) {
          for (const workers of workerCounts) {
            const target = uniqueName('bench_dispatch');
            const taskQueue = uniqueName('dispatch');
            const runDir = path.join(dir, target);
            const config = writeConfig(runDir, {
              sourceDir: dumpDir,
              temporalAddress: cluster.address,
              taskQueue,
              taskInfoSchema: `${target}_info`,
              tableConcurrency: tables,
              extra: `[[routes]]\nschema-pattern = "${sourceSchema}"\ntarget-schema = "${target}"\n`,
            });
            const logFile = path.join(runDir, 'workers.log');
            const children = Array.from({ length: workers }, () => spawnWorker(config, logFile));
            try {
              await waitForLines(logFile, /^worker on /gm, workers);
              const code = await run(process.execPath, [tempestMain, 'import', '-c', config]);
              if (code !== 0) throw new Error(`tempest import exited ${code}; see ${runDir}`);
              const figures = dispatchFigures(await chunkRuns(client, taskQueue), workers, slotsPerWorker);
              console.log(
                [
                  String(partitions).padStart(10),
                  String(workers).padStart(8),
                  figures.chunksPerSecond.toFixed(1).padStart(9),
                  figures.phaseSeconds.toFixed(1).padStart(8),
                  `${figures.queuedMs.p50}/${figures.queuedMs.p90}/${figures.queuedMs.max}`.padStart(22),
                  `${figures.idleWhileQueuedSlotSeconds.toFixed(2)} (${(figures.idleWhileQueuedShare * 100).toFixed(1)}% of slot time)`.padStart(12),
                ].join(' '),
              );
            } finally {
              for (const child of children) child.kill('SIGTERM');
              await Promise.all(children.map(waitForExit));
              await dropDatabases(db, [target, `${target}_info`]);
            }
          }
        }
      } finally {
        await connection.close();
        await cluster.destroy();
      }
    }
  } finally {
    await db.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
