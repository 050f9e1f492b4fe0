import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { loadConfig } from '../../client/config/load';
import { targetSettingsOf, taskSettingsOf } from '../../client/task-settings';
import { importChunk } from '../../activities/import-chunk';
import { planChunks } from '../../activities/source/plan-chunks';
import { planSource } from '../../activities/source/plan-source';
import { createTargetPool } from '../../activities/database/connection';
import { ensureProgressTable } from '../../activities/database/chunk-progress';
import { restoreDatabase, restoreTable } from '../../activities/database/restore-schema';
import type { TaskSettings } from '../../activities/task-types';
import { generateDump, loadReference, type DumpFixture } from '../helpers/dump-fixture';
import { makeTempDir, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';

let db: Connection;
let fixture: DumpFixture;
const schema = uniqueName('tempest_once');
const taskInfo = `${schema}_info`;
const dir = makeTempDir('tempest-once');

before(async () => {
  db = await adminConnection();
  fixture = generateDump({ schema, dir: path.join(dir, 'dump'), rows: 4000, rowsPerFile: 4000, seed: 13 });
  await loadReference(db, `${schema}_ref`, fixture);
});

after(async () => {
  await dropDatabases(db, [schema, `${schema}_ref`, taskInfo]);
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('two attempts of the same chunk at once (a worker Temporal gave up on, still running) write each row once', async () => {
  const config = loadConfig(writeConfig(dir, { sourceDir: path.join(dir, 'dump'), temporalAddress: '127.0.0.1:1', taskQueue: 'unused', taskInfoSchema: taskInfo, importer: 'logical-import-batch-rows = 25' }));
  const settings: TaskSettings = { ...taskSettingsOf(config), taskId: uniqueName('task') };
  const pool = createTargetPool(targetSettingsOf(config), 8);
  try {
    const plan = await planSource(settings);
    await ensureProgressTable(pool, taskInfo);
    for (const database of plan.databases) await restoreDatabase(pool, database);
    for (const table of plan.tables.filter((candidate) => candidate.name !== 'typed')) {
      await restoreTable(pool, table);
      const [chunk] = await planChunks(settings, table.dataFiles);
      const input = { settings, table: { key: table.key, schema: table.schema, name: table.name }, chunk };
      const attempt = () => importChunk({ pool, heartbeat: () => undefined, signal: new AbortController().signal }, input);
      const outcomes = await Promise.allSettled([attempt(), attempt(), attempt()]);
      assert.ok(outcomes.some((outcome) => outcome.status === 'fulfilled'), `${table.name}: one attempt finished`);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') assert.match(String(outcome.reason), /another attempt of this chunk advanced it|Deadlock/, `${table.name}: a losing attempt stops without writing`);
      }
      // Whatever attempts lost, a retry resumes from the committed position and completes the chunk.
      await attempt();
      assert.deepEqual(await sortedRows(db, schema, table.name), await sortedRows(db, `${schema}_ref`, table.name), `${table.name}: every row once`);
    }
  } finally {
    await pool.end();
  }
});
