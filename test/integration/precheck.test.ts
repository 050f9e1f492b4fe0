import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { generateDump } from '../helpers/dump-fixture';
import { importDirectly, poolOfConfig, settingsOfConfig, writeDirectConfig } from '../helpers/direct-import';
import { makeTempDir } from '../helpers/import-harness';
import { adminConnection, dropDatabases, uniqueName } from '../helpers/target-db';

let db: Connection;
const dir = makeTempDir('tempest-precheck');
const schema = uniqueName('tempest_precheck');

before(async () => {
  db = await adminConnection();
  generateDump({ schema, dir: path.join(dir, 'dump'), rows: 30, seed: 3 });
});

after(async () => {
  await dropDatabases(db, [schema, `${schema}_info`]);
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a second import into tables that already hold rows is stopped, naming each table and what to do', async () => {
  const config = writeDirectConfig(dir, { sourceDir: path.join(dir, 'dump'), taskInfoSchema: `${schema}_info` });
  const pool = poolOfConfig(config);
  try {
    await importDirectly(pool, settingsOfConfig(config));
    const second = importDirectly(pool, settingsOfConfig(config));
    await assert.rejects(second, (error: Error) => {
      for (const table of ['typed', 'keyless', 'from_csv']) {
        assert.ok(error.message.includes(`\`${schema}\`.\`${table}\` already holds rows`), `names ${table}: ${error.message}`);
      }
      assert.match(error.message, /TRUNCATE TABLE `tempest_precheck_[0-9a-f]+`\.`typed`/);
      assert.match(error.message, /add "!tempest_precheck_[0-9a-f]+\.typed" to \[mydumper\] filter/);
      return true;
    });
  } finally {
    await pool.end();
  }
  const [rows] = await db.query(`SELECT COUNT(*) AS n FROM \`${schema}\`.keyless`);
  assert.equal(Number((rows as Array<{ n: string }>)[0].n), 15, 'nothing was written twice');
});
