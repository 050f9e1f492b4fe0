import { spawn } from 'node:child_process';
import path from 'node:path';
import { startTidbServer } from './helpers/tidb-server';

/**
 * The integration files that run on TiDB as they run on MariaDB, against a tidb-server started
 * here on free ports (TEMPEST_TEST_TARGET points the files' helpers at it). Files left out test
 * what only MariaDB does: LOAD DATA batches (Tempest sends INSERTs to TiDB, see
 * activities/database/load-data.ts), or the same steps again with no server difference.
 * deferred-indexes is left out until activities/database/deferred-indexes.ts reads TiDB's
 * SHOW CREATE TABLE (8 of its 10 tests fail there).
 */
const filesOnTidb = [
  'cli-sample', // the bundled sample through `tempest import`: SQL, CSV, gzip, a view
  'import-values', // every column type, value for value
  'source-formats', // zstd, snappy, GBK, latin1, Parquet, resume inside a file
  'csv-options',
  'row-checksum', // verification's checksum computed by TiDB equals the source's
  'error-records', // type_error_v1 and conflict records within max-error and past it
  'operator-ctl', // ctl ignore and destroy on failed tables
  'faults/worker-kill', // kill -9 of `tempest worker` processes mid-import
  'checkpoints', // the file and MySQL checkpoint snapshots
  'exactly-once',
];

async function main(): Promise<number> {
  const server = await startTidbServer();
  try {
    const files = filesOnTidb.map((name) => path.join(__dirname, 'integration', `${name}.test.js`));
    console.log(`# the TiDB suite: ${files.length} files on tidb-server at ${server.host}:${server.port}`);
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], {
      stdio: 'inherit',
      env: { ...process.env, TEMPEST_TEST_TARGET: `${server.host}:${server.port}`, TEMPEST_TEST_TARGET_KIND: 'tidb' },
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    return code ?? (signal ? 1 : 0);
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`the TiDB suite did not start: ${(error as Error).message}`);
    process.exit(1);
  },
);
