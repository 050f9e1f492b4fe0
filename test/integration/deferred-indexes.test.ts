import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { createActivities } from '../../activities';
import { planSource } from '../../activities/source/plan-source';
import { startChunkProgress, tableHasProgress } from '../../activities/database/chunk-progress';
import { addDeferredIndexes, deferSecondaryIndexes, readDeferredIndexes } from '../../activities/database/deferred-indexes';
import { destroyTargetTable } from '../../activities/database/destroy-table';
import { restoreDatabase, restoreTable } from '../../activities/database/restore-schema';
import type { TablePlan, TaskSettings } from '../../activities/task-types';
import { CheckpointStatus, describeStatus } from '../../workflows/checkpoint-status';
import { importDirectly, poolOfConfig, settingsOfConfig, writeDirectConfig } from '../helpers/direct-import';
import { importOutcome, readTaskTables, startImport, tempestMain, waitForOperator, withWorker, writeConfig, type TaskHandle } from '../helpers/import-harness';
import { spyOnStatements } from '../helpers/statement-spy';
import { adminConnection, sortedRows, testScratch, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * `[tikv-importer] add-index-by-sql` (on by default): a table Tempest creates loads without its plain
 * secondary KEYs, which are added back once its rows are in and verified. What a user checks: the
 * finished table is the one the schema file describes, its rows are right, unique keys held during
 * the load, and nothing is left behind in the task-info schema, whatever failed on the way.
 */

const run = promisify(execFile);
const scratch = testScratch('tempest-deferred-indexes');
const { dir, databases } = scratch;
let env: TestWorkflowEnvironment | undefined;

before(async () => {
  env = await startTemporal();
});

after(async () => {
  await env?.teardown();
});

/** A PRIMARY KEY, a UNIQUE KEY, two plain keys (one on two columns, one on a prefix) and a FULLTEXT key. */
const itemsSchema = `CREATE TABLE \`items\` (
  id INT NOT NULL,
  code VARCHAR(20) NOT NULL,
  name VARCHAR(100),
  a INT,
  b INT,
  body TEXT,
  PRIMARY KEY (id),
  INDEX a_b (a, b),
  UNIQUE KEY code (code),
  FULLTEXT KEY body_text (body),
  KEY \`name 名\`\`prefix\` (name(10))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`;

/** The prefix key's name needs quoting, and is not ASCII: it goes through the record and back byte for byte. */
const prefixKey = 'name 名`prefix';
const prefixKeyLine = 'KEY `name 名``prefix` (`name`(10))';
const plainKeys = ['a_b', prefixKey];

function itemRows(from: number, to: number): string {
  const rows: string[] = [];
  for (let id = from; id < to; id++) {
    const b = id % 5 === 0 ? 'NULL' : String(id % 11);
    rows.push(`(${id},'code-${id}','name ${id % 17} ${'x'.repeat(id % 13)}',${id % 7},${b},'words about ${id}')`);
  }
  return `INSERT INTO \`items\` VALUES ${rows.join(',')};\n`;
}

interface Dump {
  schema: string;
  source: string;
  /** The table created straight from the schema file, holding the dump's rows: what the import must give. */
  reference: string;
  info: string;
  dataFiles: string[];
}

/**
 * A dump of `items` in two files (or `files`: more than 64 make it a large table, imported by a
 * workflow of its own), and the reference it must match; `duplicateCode` ends it with a row
 * repeating a code (the reference gets no rows then).
 */
async function writeDump(prefix: string, options: { duplicateCode?: boolean; files?: number } = {}): Promise<Dump> {
  const schema = uniqueName(prefix);
  const reference = `${schema}_ref`;
  const info = `${schema}_info`;
  databases.push(schema, reference, info);
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}.items-schema.sql`), itemsSchema);
  const files = options.files ?? 2;
  const dataFiles = Array.from({ length: files }, (_, file) => path.join(source, `${schema}.items.${String(file).padStart(9, '0')}.sql`));
  const perFile = Math.ceil(300 / files);
  dataFiles.forEach((file, index) => fs.writeFileSync(file, itemRows(1 + index * perFile, Math.min(301, 1 + (index + 1) * perFile))));
  if (options.duplicateCode) {
    fs.writeFileSync(dataFiles[files - 1], `${itemRows(1 + (files - 1) * perFile, 300)}INSERT INTO \`items\` VALUES (999,'code-7','again',1,1,'dup');\n`);
  }
  await scratch.db.query(`CREATE DATABASE \`${reference}\``);
  await scratch.db.query(`USE \`${reference}\``);
  await scratch.db.query(itemsSchema);
  if (!options.duplicateCode) for (const file of dataFiles) await scratch.db.query(fs.readFileSync(file, 'utf8'));
  return { schema, source, reference, info, dataFiles };
}

/** A dump to import without Temporal: its settings, a pool of its config, and its table. */
async function directScenario(prefix: string) {
  const dump = await writeDump(prefix);
  const config = directConfig(dump);
  return { dump, settings: settingsOfConfig(config), pool: poolOfConfig(config), table: { key: `\`${dump.schema}\`.\`items\``, schema: dump.schema, name: 'items' } };
}

/** A config importing `dump` through the test's Temporal, on a task queue of its own. */
function configFor(dump: Dump): string {
  return writeConfig(path.join(dir, `${dump.schema}-config`), { sourceDir: dump.source, temporalAddress: env!.address, taskQueue: uniqueName('q'), taskInfoSchema: dump.info });
}

async function showCreateTable(schema: string, table = 'items'): Promise<string> {
  const [rows] = await scratch.db.query<RowDataPacket[]>(`SHOW CREATE TABLE \`${schema}\`.\`${table}\``);
  return String(rows[0]['Create Table']);
}

/** The index lines of SHOW CREATE TABLE, e.g. "KEY `a_b` (`a`,`b`)". */
async function indexLines(schema: string, table = 'items'): Promise<string[]> {
  return (await showCreateTable(schema, table))
    .split('\n')
    .filter((line) => /^ {2}(PRIMARY |UNIQUE |FULLTEXT |SPATIAL )?KEY /.test(line))
    .map((line) => line.trim().replace(/,$/, ''));
}

async function assertSameAsSchemaFile(dump: Dump): Promise<void> {
  assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference), 'the indexes the schema file describes');
  assert.equal(await showCreateTable(dump.schema), await showCreateTable(dump.reference), 'the table the schema file describes');
}

/** Rows in the task-info schema's record of deferred indexes (any task), for the dump's table. */
async function recordedRows(dump: Dump): Promise<Array<{ task_id: string; index_name: string; definition: string }>> {
  const [rows] = await scratch.db.query<RowDataPacket[]>(
    `SELECT task_id, index_name, definition FROM \`${dump.info}\`.tempest_deferred_index_v1 WHERE table_name LIKE '%\`items\`' ORDER BY task_id, position`,
  );
  return rows as Array<{ task_id: string; index_name: string; definition: string }>;
}

function directConfig(dump: Dump, importer = 'on-duplicate = "error"'): string {
  return writeDirectConfig(path.join(dir, `${dump.schema}-config-${Math.random().toString(36).slice(2, 8)}`), { sourceDir: dump.source, taskInfoSchema: dump.info, importer });
}

/** What the schemas step does, for one table: create it, then (add-index-by-sql) defer its plain keys. */
async function restoreItems(pool: Pool, settings: TaskSettings): Promise<{ table: TablePlan; deferred: string[] }> {
  const plan = await planSource(settings);
  await createActivitiesFor(pool).prepareTarget(settings);
  for (const database of plan.databases) await restoreDatabase(pool, database);
  const table = plan.tables[0];
  assert.equal(await restoreTable(pool, table), 'created');
  const deferred = settings.deferIndexes ? await deferSecondaryIndexes(pool, settings, table) : [];
  return { table, deferred };
}

/**
 * Two chunks racing on one unique key can deadlock instead of failing on the duplicate: Temporal
 * retries that, a direct import does not.
 */
function oneChunkAtATime(settings: TaskSettings): TaskSettings {
  return { ...settings, regionConcurrency: 1 };
}

function createActivitiesFor(pool: Pool) {
  return createActivities({ pool, temporalClient: () => Promise.reject(new Error('no Temporal in this test')) });
}

test('an import leaves the table as its schema file describes, with its rows, and nothing recorded', async () => {
  const dump = await writeDump('tempest_defer_full');
  const config = configFor(dump);
  // The ALTERs the import sends (its worker runs in this process): which keys it left out, and added back.
  const alters = spyOnStatements(new RegExp(`^ALTER TABLE \`${dump.schema}\`\\.\`items\` `));
  const handle = await startImport(env!.client, config);
  const { tables } = await withWorker(env!.nativeConnection, env!.address, config, () => importOutcome(handle, config)).finally(() => alters.stop());
  assert.equal(tables[0].status, CheckpointStatus.analyzed);
  assert.equal(tables[0].verify?.status, 'checksummed');
  await assertSameAsSchemaFile(dump);
  assert.deepEqual(await sortedRows(scratch.db, dump.schema, 'items'), await sortedRows(scratch.db, dump.reference, 'items'));
  assert.equal((await sortedRows(scratch.db, dump.schema, 'items')).length, 300);
  assert.deepEqual(await recordedRows(dump), [], 'the record of deferred indexes is cleared');
  assert.deepEqual(
    alters.statements,
    [
      `ALTER TABLE \`${dump.schema}\`.\`items\` DROP INDEX \`a_b\`, DROP INDEX \`name 名\`\`prefix\``,
      `ALTER TABLE \`${dump.schema}\`.\`items\` ADD KEY \`a_b\` (\`a\`,\`b\`), ADD ${prefixKeyLine}`,
    ],
    'the import left out exactly the plain keys while loading, and added them back in one ALTER',
  );
});

/** The tables each importSmallTables activity of the task was given, by key, in the order given. */
async function smallTableGroupsInHistory(handle: TaskHandle, config: string): Promise<string[][]> {
  const keys = new Map((await readTaskTables(handle, config)).map((table) => [table.ordinal, table.key]));
  const events = (await handle.fetchHistory()).events ?? [];
  return events.flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'importSmallTables') return [];
    const input = defaultPayloadConverter.fromPayload<{ tables: Array<{ ordinal: number }> }>(scheduled.input!.payloads![0]);
    return [input.tables.map((table) => keys.get(table.ordinal)!)];
  });
}

for (const [files, way] of [
  [undefined, 'small tables, in one activity'],
  [100, 'large tables, each in a workflow of its own'],
] as const) {
  test(`a table whose keys wait for its rows starts before the tables planned ahead of it, so that its index build overlaps their loading (${way})`, async () => {
    const dump = await writeDump('tempest_defer_order', { files });
    // Planned first (names sort), with no key to defer.
    fs.writeFileSync(path.join(dump.source, `${dump.schema}.aaa_plain-schema.sql`), 'CREATE TABLE `aaa_plain` (`id` int NOT NULL, PRIMARY KEY (`id`));\n');
    for (let file = 0; file < (files ?? 1); file++) {
      fs.writeFileSync(path.join(dump.source, `${dump.schema}.aaa_plain.${String(file).padStart(9, '0')}.sql`), `INSERT INTO \`aaa_plain\` VALUES (${3 * file + 1}),(${3 * file + 2}),(${3 * file + 3});\n`);
    }
    const config = configFor(dump);
    const handle = await startImport(env!.client, config);
    const { tables } = await withWorker(env!.nativeConnection, env!.address, config, () => importOutcome(handle, config));
    const [aaaPlain, items] = [`\`${dump.schema}\`.\`aaa_plain\``, `\`${dump.schema}\`.\`items\``];
    assert.deepEqual(
      tables.map((table) => table.key),
      [aaaPlain, items],
      'the tables are listed as planned',
    );
    if (files === undefined) {
      assert.deepEqual(await smallTableGroupsInHistory(handle, config), [[items, aaaPlain]], 'one activity, given items first');
    } else {
      const events = (await handle.fetchHistory()).events ?? [];
      const started = events.flatMap((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
      assert.deepEqual(started, [`${handle.workflowId}/${items}`, `${handle.workflowId}/${aaaPlain}`]);
    }
    await assertSameAsSchemaFile(dump);
  });
}

test('while the rows load, the plain keys are absent and recorded, and the unique key still rejects a duplicate', async () => {
  const dump = await writeDump('tempest_defer_dup', { duplicateCode: true });
  const config = directConfig(dump);
  const pool = poolOfConfig(config);
  try {
    await assert.rejects(importDirectly(pool, oneChunkAtATime(settingsOfConfig(config))), /Duplicate entry .* for key 'code'/);
    // The failed import stopped mid-load: the table is as the load sees it.
    const lines = await indexLines(dump.schema);
    assert.deepEqual(lines, ['PRIMARY KEY (`id`)', 'UNIQUE KEY `code` (`code`)', 'FULLTEXT KEY `body_text` (`body`)']);
    const recorded = await recordedRows(dump);
    assert.deepEqual(
      recorded.map((row) => [row.index_name, row.definition]),
      [
        ['a_b', 'KEY `a_b` (`a`,`b`)'],
        [prefixKey, prefixKeyLine],
      ],
    );
    // The end step, run for that task, puts the table back as the schema file has it.
    const task = { taskId: recorded[0].task_id, taskInfoSchema: dump.info };
    const table = { key: `\`${dump.schema}\`.\`items\``, schema: dump.schema, name: 'items' };
    assert.deepEqual(await addDeferredIndexes(pool, task, table), plainKeys);
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference));
    assert.deepEqual(await recordedRows(dump), []);
  } finally {
    await pool.end();
  }
});

test('with add-index-by-sql = false the keys are never dropped', async () => {
  const dump = await writeDump('tempest_defer_off', { duplicateCode: true });
  const config = directConfig(dump, 'on-duplicate = "error"\nadd-index-by-sql = false');
  const settings = settingsOfConfig(config);
  assert.equal(settings.deferIndexes, false);
  const pool = poolOfConfig(config);
  try {
    await assert.rejects(importDirectly(pool, oneChunkAtATime(settings)), /Duplicate entry .* for key 'code'/);
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference), 'mid-load, every key is there');
    assert.deepEqual(await recordedRows(dump), []);
  } finally {
    await pool.end();
  }
});

test('the schemas activity defers only with add-index-by-sql, and only for tables it creates', async () => {
  const { dump, settings, pool } = await directScenario('tempest_defer_activity');
  const activities = createActivitiesFor(pool);
  const activity = new MockActivityEnvironment();
  try {
    const plan = await planSource(settings);
    await activity.run(activities.prepareTarget, settings);
    // A task started before add-index-by-sql passes no settings; one with it off passes false.
    await activity.run(activities.restoreSchemas, { databases: plan.databases, tables: plan.tables });
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference));
    await scratch.db.query(`DROP TABLE \`${dump.schema}\`.items`);
    await activity.run(activities.restoreSchemas, { databases: plan.databases, tables: plan.tables, settings: { ...settings, deferIndexes: false } });
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference));
    // A table that already exists is the user's: left as it is.
    await activity.run(activities.restoreSchemas, { databases: plan.databases, tables: plan.tables, settings });
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference));
    assert.deepEqual(await recordedRows(dump), []);

    await scratch.db.query(`DROP TABLE \`${dump.schema}\`.items`);
    await activity.run(activities.restoreSchemas, { databases: plan.databases, tables: plan.tables, settings });
    assert.equal((await indexLines(dump.schema)).length, 3, 'created by the task: the plain keys are deferred');
    assert.deepEqual(
      (await recordedRows(dump)).map((row) => row.index_name),
      plainKeys,
    );
    // A table still on record when the task ends was removed from it before its keys were back.
    await activity.run(activities.forgetTaskProgress, settings);
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference), 'its keys are put back');
    assert.deepEqual(await recordedRows(dump), [], 'a finished task leaves no record');
  } finally {
    await pool.end();
  }
});

test('a table with a foreign key, or one a foreign key points at, keeps its keys; so does the key an AUTO_INCREMENT column needs', async () => {
  const schema = uniqueName('tempest_defer_fk');
  databases.push(schema, `${schema}_info`);
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  // The child comes after its parent in the plan: the parent's key is needed by a table not created yet.
  fs.writeFileSync(path.join(source, `${schema}.zchild-schema.sql`), 'CREATE TABLE zchild (id INT PRIMARY KEY, p INT, note INT, KEY note (note), CONSTRAINT fk FOREIGN KEY (p) REFERENCES parent (p));\n');
  fs.writeFileSync(path.join(source, `${schema}.parent-schema.sql`), 'CREATE TABLE parent (id INT PRIMARY KEY, p INT, KEY p (p));\n');
  fs.writeFileSync(path.join(source, `${schema}.counter-schema.sql`), 'CREATE TABLE counter (g INT, n INT AUTO_INCREMENT, v INT, PRIMARY KEY (g, n), KEY n (n), KEY v (v));\n');
  const config = writeDirectConfig(path.join(dir, `${schema}-config`), { sourceDir: source, taskInfoSchema: `${schema}_info` });
  const settings = settingsOfConfig(config);
  const pool = poolOfConfig(config);
  try {
    const plan = await planSource(settings);
    await new MockActivityEnvironment().run(createActivitiesFor(pool).prepareTarget, settings);
    await new MockActivityEnvironment().run(createActivitiesFor(pool).restoreSchemas, { databases: plan.databases, tables: plan.tables, settings });
    const keysOf = async (table: string) => (await indexLines(schema, table)).filter((line) => line.startsWith('KEY '));
    assert.deepEqual((await keysOf('zchild')).sort(), ['KEY `fk` (`p`)', 'KEY `note` (`note`)'], 'it has a foreign key');
    assert.deepEqual(await keysOf('parent'), ['KEY `p` (`p`)'], 'a foreign key points at it');
    assert.deepEqual(await keysOf('counter'), ['KEY `n` (`n`)'], 'the AUTO_INCREMENT column keeps its key; the other goes');
  } finally {
    await pool.end();
  }
});

test('after a crash, the end step adds only what is missing: recorded but never dropped, or partly added back', async () => {
  const { dump, settings, pool, table } = await directScenario('tempest_defer_crash');
  try {
    // Recorded, then a crash before the DROP: every key is still there.
    await restoreItems(pool, { ...settings, deferIndexes: false });
    await scratch.db.query(
      `INSERT INTO \`${dump.info}\`.tempest_deferred_index_v1 (task_id, table_name, table_schema, table_only, index_name, position, definition)
       VALUES (?, ?, ?, 'items', 'a_b', 0, 'KEY \`a_b\` (\`a\`,\`b\`)'), (?, ?, ?, 'items', ?, 1, ?)`,
      [settings.taskId, table.key, dump.schema, settings.taskId, table.key, dump.schema, prefixKey, prefixKeyLine],
    );
    assert.deepEqual(await addDeferredIndexes(pool, settings, table), []);
    await assertSameAsSchemaFile(dump);
    assert.deepEqual(await recordedRows(dump), []);

    // Dropped, then one added back (by an operator, say) before the end step ran.
    await scratch.db.query(`DROP TABLE \`${dump.schema}\`.items`);
    assert.deepEqual((await restoreItems(pool, settings)).deferred, plainKeys);
    await scratch.db.query(`ALTER TABLE \`${dump.schema}\`.items ADD ${prefixKeyLine}`);
    assert.deepEqual(await addDeferredIndexes(pool, settings, table), ['a_b']);
    // Added in another order than the schema file's, the same keys.
    assert.deepEqual((await indexLines(dump.schema)).sort(), (await indexLines(dump.reference)).sort());
    assert.deepEqual(await recordedRows(dump), []);
    assert.deepEqual(await addDeferredIndexes(pool, settings, table), [], 'run again: nothing to do');
  } finally {
    await pool.end();
  }
});

test("an earlier attempt's ALTER that finishes while the end step waits for the table: the duplicate name is read again, not a failure", async () => {
  const { dump, settings, pool, table } = await directScenario('tempest_defer_race');
  const holder = await adminConnection();
  const earlier = await adminConnection();
  try {
    await restoreItems(pool, settings);
    // A reader holds the table: the earlier attempt's ALTER, then the end step's, queue behind it.
    await holder.query(`START TRANSACTION; SELECT * FROM \`${dump.schema}\`.items LIMIT 1`);
    const earlierAlter = earlier.query(`ALTER TABLE \`${dump.schema}\`.items ADD KEY \`a_b\` (\`a\`,\`b\`), ADD ${prefixKeyLine}`);
    await waitForAlters(dump.schema, 1);
    const endStep = addDeferredIndexes(pool, settings, table);
    await waitForAlters(dump.schema, 2);
    await holder.query('COMMIT');
    await earlierAlter;
    assert.deepEqual(await endStep, [], 'the earlier attempt added them all');
    await assertSameAsSchemaFile(dump);
    assert.deepEqual(await recordedRows(dump), []);
  } finally {
    await Promise.all([pool.end(), holder.end(), earlier.end()]);
  }
});

async function waitForAlters(schema: string, count: number): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const [rows] = await scratch.db.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'ALTER TABLE%' AND INFO LIKE ? AND STATE LIKE '%metadata lock%'",
      [`%${schema}%`],
    );
    if (Number(rows[0].n) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`${count} ALTERs never waited for the table`);
}

test('--checkpoint-error-destroy forgets the dropped table\'s deferred keys before the new table defers its own', async () => {
  const { dump, settings, pool } = await directScenario('tempest_defer_destroy');
  try {
    const { table } = await restoreItems(pool, settings);
    await scratch.db.query(`INSERT INTO \`${dump.schema}\`.items VALUES (1, 'partly', 'loaded', 1, 1, 'row')`);
    // The operator changes the schema file before importing the table again: the prefix key is gone from it.
    const schemaFile = path.join(dump.source, `${dump.schema}.items-schema.sql`);
    fs.writeFileSync(schemaFile, itemsSchema.replace(',\n  KEY `name 名``prefix` (name(10))', ''));
    await destroyTargetTable(pool, settings, table);
    assert.deepEqual(await sortedRows(scratch.db, dump.schema, 'items'), [], 'dropped and created anew');
    assert.deepEqual((await recordedRows(dump)).map((row) => row.definition), ['KEY `a_b` (`a`,`b`)'], 'only the new table\'s key is recorded');
    assert.deepEqual(await addDeferredIndexes(pool, settings, table), ['a_b']);
    assert.deepEqual(await indexLines(dump.schema), (await indexLines(dump.reference)).filter((line) => line !== prefixKeyLine));
  } finally {
    await pool.end();
  }
});

test('--checkpoint-remove puts the deferred keys back before the table leaves the task', async () => {
  const { dump, settings, pool } = await directScenario('tempest_defer_remove');
  try {
    const { table } = await restoreItems(pool, settings);
    const chunk = { taskId: settings.taskId, tableKey: table.key, path: dump.dataFiles[0], offset: 0 };
    const progress = { pos: 0, rows: 0, checksum: '0', checksumComplete: true, finished: false, fileSize: 1, fileMtimeMs: 1, prefixCrc: 0, tableCreated: '' };
    await startChunkProgress(pool, settings.taskInfoSchema, chunk, progress);
    await new MockActivityEnvironment().run(createActivitiesFor(pool).forgetTableProgress, { settings, tableKey: table.key });
    assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference), 'every key is back');
    assert.deepEqual(await recordedRows(dump), []);
    assert.equal(await tableHasProgress(pool, settings.taskInfoSchema, settings.taskId, table.key), false, 'its progress is forgotten');
    assert.deepEqual(await readDeferredIndexes(pool, settings, table.key), []);
  } finally {
    await pool.end();
  }
});

/** The task waits for the operator with the table failed at `status`: the table, as the task's table queue has it. */
async function waitForFailedTable(handle: TaskHandle, config: string, status: number) {
  return (await waitForOperator(handle, config, (tables) => tables[0].status === status)).tables[0];
}

async function ctl(config: string, flag: string): Promise<string> {
  const { stdout } = await run(process.execPath, [tempestMain, 'ctl', '-c', config, flag]);
  return stdout;
}

/** The import of a dump whose first file ends in a malformed row, started: the table fails mid-load. */
async function startImportFailingMidLoad(prefix: string) {
  const dump = await writeDump(prefix);
  const goodSize = fs.statSync(dump.dataFiles[0]).size;
  fs.appendFileSync(dump.dataFiles[0], 'INSERT INTO `items` VALUES (9999, oops);\n');
  const config = configFor(dump);
  return { dump, goodSize, config, key: `\`${dump.schema}\`.\`items\``, handle: await startImport(env!.client, config) };
}

test('a server refusing the index build fails the table at "index added", says what to do, and resumes after the fix', async () => {
  const { dump, goodSize: good, config, key, handle } = await startImportFailingMidLoad('tempest_defer_refused');
  await withWorker(env!.nativeConnection, env!.address, config, async () => {
    // A malformed row stops the load halfway: the plain keys are off the table meanwhile.
    await waitForFailedTable(handle, config, Math.floor(CheckpointStatus.allWritten / 10));
    assert.deepEqual(await indexLines(dump.schema), ['PRIMARY KEY (`id`)', 'UNIQUE KEY `code` (`code`)', 'FULLTEXT KEY `body_text` (`body`)']);
    // The server will refuse the build: one recorded definition names a column the table lacks.
    await scratch.db.query(`UPDATE \`${dump.info}\`.tempest_deferred_index_v1 SET definition = 'KEY \`a_b\` (\`a\`,\`gone\`)' WHERE index_name = 'a_b'`);
    fs.truncateSync(dump.dataFiles[0], good);
    assert.match(await ctl(config, `--checkpoint-error-ignore=${key}`), /back to loaded/);

    const failed = await waitForFailedTable(handle, config, Math.floor(CheckpointStatus.indexAdded / 10));
    assert.equal(describeStatus(failed.status), 'failed at indexAdded');
    const message = failed.failure?.message ?? '';
    assert.ok(message.startsWith(`${key}: all its rows are in, but adding back the secondary indexes`), message);
    assert.match(message, /Key column 'gone' doesn't exist/);
    assert.ok(message.includes(`ALTER TABLE ${key} ADD KEY \`a_b\` (\`a\`,\`gone\`), ADD ${prefixKeyLine}`), message);
    assert.ok(message.includes(`KEY \`a_b\` (\`a\`,\`gone\`), ${prefixKeyLine}`), message);
    assert.ok(message.includes(`tempest ctl --checkpoint-error-ignore='${key}'`), message);
    assert.deepEqual((await recordedRows(dump)).length, 2, 'still recorded, for the next attempt');

    // The operator adds the one the server refused by hand, as the message offers, and resumes.
    await scratch.db.query(`ALTER TABLE ${key} ADD KEY \`a_b\` (\`a\`,\`b\`)`);
    assert.match(await ctl(config, `--checkpoint-error-ignore=${key}`), /back to loaded/);
    const { tables } = await importOutcome(handle, config);
    assert.equal(tables[0].status, CheckpointStatus.analyzed);
  });
  await assertSameAsSchemaFile(dump);
  assert.deepEqual(await sortedRows(scratch.db, dump.schema, 'items'), await sortedRows(scratch.db, dump.reference, 'items'));
  assert.deepEqual(await recordedRows(dump), []);
});

test('--checkpoint-remove of a table that failed mid-load: the task finishes and the table has its keys back', async () => {
  const { dump, config, key, handle } = await startImportFailingMidLoad('tempest_defer_removed');
  await withWorker(env!.nativeConnection, env!.address, config, async () => {
    await waitForFailedTable(handle, config, Math.floor(CheckpointStatus.allWritten / 10));
    assert.equal((await indexLines(dump.schema)).length, 3, 'mid-load: the plain keys are off');
    assert.match(await ctl(config, `--checkpoint-remove=${key}`), /checkpoint removed/);
    // The last failed table gone, the task finishes at once, racing the removal's own add-back.
    const { result, tables } = await importOutcome(handle, config);
    assert.deepEqual(tables, []);
    assert.equal(result.removed, 1);
  });
  assert.deepEqual(await indexLines(dump.schema), await indexLines(dump.reference), 'the table keeps its keys');
  assert.equal((await sortedRows(scratch.db, dump.schema, 'items')).length, 300, 'and every good row, the malformed one left out');
  assert.deepEqual(await recordedRows(dump), []);
});
