import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { freePort } from '../helpers/free-port';
import { makeTempDir, tempestMain } from '../helpers/import-harness';
import { adminConnection, dropDatabases, testTarget, uniqueName } from '../helpers/target-db';

const run = promisify(execFile);
const dir = makeTempDir('tempest-cli');
const schema = uniqueName('tempest_cli_sample');
const sample = path.resolve(__dirname, '../../../examples');

after(async () => {
  const db = await adminConnection();
  await dropDatabases(db, [schema, `${schema}_info`]);
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('tempest import on embedded defaults: starts its own Temporal dev server and worker, imports the sample, exits 0', async () => {
  // The bundled sample config, as a user runs it, with its database routed to one of this test's own
  // and its own state directory and ports so that it cannot meet another run.
  const [port, uiPort] = [await freePort(), await freePort()];
  const config = path.join(dir, 'sample.toml');
  fs.writeFileSync(
    config,
    fs
      .readFileSync(path.join(sample, 'sample.toml'), 'utf8')
      .replace('data-source-dir = "examples/sample-dump"', `data-source-dir = ${JSON.stringify(path.join(sample, 'sample-dump'))}`)
      .replace('[lightning]\n', `[lightning]\ntask-info-schema-name = "${schema}_info"\n`)
      .replace('host = "127.0.0.1"\nport = 3306\n', `host = ${JSON.stringify(testTarget.host)}\nport = ${testTarget.port}\n`) +
      `
[checkpoint]
dsn = ${JSON.stringify(path.join(dir, 'checkpoint.pb'))}

[[routes]]
schema-pattern = "tempest_sample"
target-schema = "${schema}"

[temporal]
state-dir = ${JSON.stringify(path.join(dir, 'state'))}
dev-server-port = ${port}
dev-server-ui-port = ${uiPort}
`,
  );

  const { stdout } = await run(process.execPath, [tempestMain, 'import', '-c', config], { timeout: 240_000 });
  assert.match(stdout, new RegExp(`Web UI: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/`));
  assert.match(stdout, /progress: /, 'progress lines when not on a terminal');
  assert.match(stdout, /import finished: 3 tables, 15 rows, 3 verified by checksum/);

  const db = await adminConnection();
  try {
    const [customers] = await db.query<RowDataPacket[]>(`SELECT name FROM \`${schema}\`.customers ORDER BY id`);
    assert.deepEqual(customers.map((row) => row.name), ['Ada Lovelace', '李小龍', "Zoë O'Brien", 'Emoji 😀 Fan', 'Back\\slash "Quote"']);
    const [view] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.big_spenders`);
    assert.equal(Number(view[0].n), 2, 'the view is restored after the tables');
  } finally {
    await db.end();
  }
  assert.ok(fs.existsSync(path.join(dir, 'state', 'temporal.sqlite')), 'the dev server keeps its history in the state directory');

  const status = await run(process.execPath, [tempestMain, 'status', '-c', config], { timeout: 120_000 });
  assert.match(status.stdout, /: completed at /);
  assert.match(status.stdout, /import finished: 3 tables, 15 rows/);
});
