import assert from 'node:assert/strict';
import { snappyFramed, zstd } from '../helpers/compress';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parquetWriteFile } from 'hyparquet-writer';
import iconv from 'iconv-lite';
import type { Connection } from 'mysql2/promise';
import { importChunk } from '../../activities/import-chunk';
import { planChunks } from '../../activities/source/plan-chunks';
import { planSource } from '../../activities/source/plan-source';
import { ensureProgressTable } from '../../activities/database/chunk-progress';
import { createTargetPool } from '../../activities/database/connection';
import { restoreDatabase, restoreTable } from '../../activities/database/restore-schema';
import type { ChunkInput } from '../../activities/task-types';
import { loadConfig } from '../../client/config/load';
import { targetSettingsOf, taskSettingsOf } from '../../client/task-settings';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { importOutcome, makeTempDir, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * Sources a Lightning user brings besides plain UTF-8 SQL and CSV: zstd and snappy files, GBK and
 * latin1 text, and Parquet. Each is imported for real and every value compared with what it must be.
 */

let env: TestWorkflowEnvironment;
let db: Connection;
const gbkSchema = uniqueName('tempest_gbk');
const latinSchema = uniqueName('tempest_latin');
const resumeSchema = uniqueName('tempest_resume');
const taskInfo = uniqueName('tempest_formats_info');
const dir = makeTempDir('tempest-formats');

before(async () => {
  env = await startTemporal();
  db = await adminConnection();
});

after(async () => {
  await dropDatabases(db, [gbkSchema, latinSchema, resumeSchema, taskInfo]);
  await db.end();
  await env.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Texts with GBK characters whose second byte is `\` (乗 is 81 5C, 俓 82 5C), next to quotes and escapes. */
const texts = ['乗', "乗'", '俓\\', '中文', "it's 表", 'a\\b', '第一行\n第二行', '', '乗乗乗', 'plain', '僜,"刓"', '\\N'];

function sqlString(text: string): string {
  return `'${text.replace(/[\\'\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`))}'`;
}

function csvField(text: string): string {
  return `"${text.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`))}"`;
}

function put(folder: string, name: string, bytes: Buffer | string): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, name), bytes);
}

/** A config for one import, with `[mydumper]` keys of its own. */
function configFor(name: string, sourceDir: string, mydumper: string, importer?: string): string {
  const file = writeConfig(path.join(dir, name), { sourceDir, temporalAddress: env.address, taskQueue: uniqueName('q'), taskInfoSchema: taskInfo, importer });
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('[mydumper]\n', `[mydumper]\n${mydumper}\n`));
  return file;
}

async function importAll(config: string, tables: string[]): Promise<void> {
  const result = await withWorker(env.nativeConnection, env.address, config, async () => importOutcome(await startImport(env.client, config), config));
  for (const table of tables) {
    const outcome = result.tables.find((candidate) => candidate.key.endsWith(`.\`${table}\``));
    assert.ok(outcome, `${table} was imported`);
    assert.equal(outcome.status, CheckpointStatus.analyzed, `${table}: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.verify?.status, 'checksummed', `${table}: verified by content checksum (${outcome.verify?.note ?? ''})`);
  }
}

test('zstd SQL, snappy CSV and GBK SQL, with GBK schema files (character-set and data-character-set = "gbk")', async () => {
  const source = path.join(dir, 'gbk-dump');
  const gbk = (text: string) => iconv.encode(text, 'gbk');
  put(source, `${gbkSchema}-schema-create.sql`, `CREATE DATABASE \`${gbkSchema}\`;\n`);
  for (const table of ['zst_t', 'snappy_t']) {
    put(source, `${gbkSchema}.${table}-schema.sql`, gbk(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, txt TEXT) DEFAULT CHARSET=utf8mb4 COMMENT '中文表';\n`));
  }
  put(source, `${gbkSchema}.gbk_t-schema.sql`, gbk('/*!40101 SET NAMES gbk */;\nCREATE TABLE `gbk_t` (`编号` INT PRIMARY KEY, `名字` VARCHAR(40), `备注` TEXT) DEFAULT CHARSET=utf8mb4;\n'));

  const rows = texts.map((text, index) => [index + 1, text] as const);
  const inserts = (table: string, columns = '') => `INSERT INTO \`${table}\`${columns} VALUES\n${rows.map(([id, text]) => `(${id},${sqlString(text)})`).join(',\n')};\n`;
  put(source, `${gbkSchema}.zst_t.000000001.sql.zst`, zstd(gbk(`/*!40101 SET NAMES binary*/;\n${inserts('zst_t')}`)));
  put(source, `${gbkSchema}.snappy_t.000000001.csv.snappy`, await snappyFramed(gbk(`id,txt\n${rows.map(([id, text]) => `${id},${csvField(text)}`).join('\n')}\n`)));
  const named = `INSERT INTO \`gbk_t\` (\`编号\`,\`名字\`,\`备注\`) VALUES\n${rows.map(([id, text]) => `(${id},${sqlString(text)},${id % 3 === 0 ? 'NULL' : sqlString(text + '乗')})`).join(',\n')};\n`;
  put(source, `${gbkSchema}.gbk_t.000000001.sql`, gbk(named));

  await importAll(configFor('gbk', source, 'character-set = "gbk"\ndata-character-set = "gbk"'), ['zst_t', 'snappy_t', 'gbk_t']);
  const expected = rows.map(([id, text]) => [id, text]);
  assert.deepEqual(await sortedRows(db, gbkSchema, 'zst_t'), expected);
  assert.deepEqual(await sortedRows(db, gbkSchema, 'snappy_t'), expected.map(([id, text]) => [id, text === '\\N' ? '\\N' : text]));
  assert.deepEqual(
    await sortedRows(db, gbkSchema, 'gbk_t'),
    rows.map(([id, text]) => [id, text, id % 3 === 0 ? null : text + '乗']),
  );
  const [columns] = await db.query(`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'gbk_t' ORDER BY ORDINAL_POSITION`, [gbkSchema]);
  assert.deepEqual((columns as Array<{ name: string }>).map((column) => column.name), ['编号', '名字', '备注'], 'the GBK schema file made UTF-8 names');
});

test('latin1 CSV and a Parquet file of several row groups with every type (data-character-set = "latin1")', async () => {
  const source = path.join(dir, 'latin-dump');
  put(source, `${latinSchema}-schema-create.sql`, `CREATE DATABASE \`${latinSchema}\`;\n`);
  put(source, `${latinSchema}.latin_t-schema.sql`, 'CREATE TABLE `latin_t` (id INT PRIMARY KEY, name VARCHAR(40)) DEFAULT CHARSET=utf8mb4;\n');
  const names = ['café', 'naïve, "quoted"', '€uro', 'Ÿ and ÿ', 'Ægir', 'x\\y'];
  const csv = `id,name\n${names.map((name, index) => `${index + 1},${csvField(name)}`).join('\n')}\n`;
  put(source, `${latinSchema}.latin_t.000000001.csv`, iconv.encode(csv, 'cp1252'));

  put(
    source,
    `${latinSchema}.pq_t-schema.sql`,
    'CREATE TABLE `pq_t` (id INT PRIMARY KEY, flag TINYINT(1), name VARCHAR(40), big BIGINT, u64 BIGINT UNSIGNED, dec18 DECIMAL(18,4), dec38 DECIMAL(38,10), ' +
      'f FLOAT, d DOUBLE, bin VARBINARY(16), day DATE, ts DATETIME(6), ts_ms DATETIME(3), t TIME(6)) DEFAULT CHARSET=utf8mb4;\n',
  );
  const count = 10;
  const ids = Array.from({ length: count }, (_, i) => i);
  // Row index 4 is NULL in every column but the key.
  const orNull = <T>(value: T, i: number) => (i === 4 ? null : value);
  const parquetNames = ['héllo', '東京', "it's", '', 'gone', '乗\\', 'a"b', '😀', 'x\ny', 'last'];
  const columnData = [
    // Not the table's column order: the file's column names decide.
    { name: 'name', data: ids.map((i) => orNull(parquetNames[i], i)) },
    { name: 'id', data: ids.map((i) => i + 1) },
    { name: 'big', data: ids.map((i) => orNull(BigInt(i) * 1000000000007n - 4611686018427387904n, i)) },
    { name: 'u64', data: ids.map((i) => orNull(18446744073709551615n - BigInt(i), i)) },
    { name: 'dec18', data: ids.map((i) => orNull(BigInt(i * 12345 - 30000), i)) },
    { name: 'dec38', data: ids.map((i) => orNull(12345678901234567890123456789012345678n - BigInt(i) * 3n, i)) },
    { name: 'f', data: ids.map((i) => orNull([0.1, -2.5, 3.25, 1e10, 0, 7, 0.375, -0.1, 100.5, 2][i], i)) },
    { name: 'd', data: ids.map((i) => orNull(i * 0.5 - 1.25, i)) },
    { name: 'bin', data: ids.map((i) => orNull(new Uint8Array([i, 0, 255, 0x27, 0x5c]), i)) },
    { name: 'day', data: ids.map((i) => orNull(19000 + i * 400, i)) },
    { name: 'ts', data: ids.map((i) => orNull(1700000000123456n + BigInt(i) * 86400000001n, i)) },
    { name: 'ts_ms', data: ids.map((i) => orNull(1700000000123n + BigInt(i), i)) },
    { name: 't', data: ids.map((i) => orNull(BigInt(i) * 3600000000n + 123456n, i)) },
    { name: 'flag', data: ids.map((i) => orNull(i % 2 === 0, i)) },
  ];
  const optional = { repetition_type: 'OPTIONAL' } as const;
  parquetWriteFile({
    filename: path.join(source, `${latinSchema}.pq_t.000000001.parquet`),
    columnData,
    schema: [
      { name: 'root', num_children: columnData.length },
      { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', ...optional },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'big', type: 'INT64', ...optional },
      { name: 'u64', type: 'INT64', converted_type: 'UINT_64', ...optional },
      { name: 'dec18', type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 4, ...optional },
      { name: 'dec38', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: 10, ...optional },
      { name: 'f', type: 'FLOAT', ...optional },
      { name: 'd', type: 'DOUBLE', ...optional },
      { name: 'bin', type: 'BYTE_ARRAY', ...optional },
      { name: 'day', type: 'INT32', converted_type: 'DATE', ...optional },
      { name: 'ts', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, ...optional },
      { name: 'ts_ms', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', ...optional },
      { name: 't', type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' }, ...optional },
      { name: 'flag', type: 'BOOLEAN', ...optional },
    ],
    rowGroupSize: 3,
  });

  // A small max-region-size: every row group is a chunk of its own, positioned by rows.
  await importAll(configFor('latin', source, 'data-character-set = "latin1"\nmax-region-size = 100'), ['latin_t', 'pq_t']);
  assert.deepEqual(
    await sortedRows(db, latinSchema, 'latin_t'),
    names.map((name, index) => [index + 1, name]),
  );
  const [progress] = await db.query(`SELECT 1 FROM \`${taskInfo}\`.tempest_chunk_v1`);
  assert.equal((progress as unknown[]).length, 0, 'a finished task leaves no progress rows behind');

  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const decimal = (unscaled: bigint, scale: number) => {
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
    return `${unscaled < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  };
  const expected = ids.map((i) => {
    if (i === 4) return [i + 1, ...Array(13).fill(null)];
    const micros = 1700000000123456n + BigInt(i) * 86400000001n;
    const time = BigInt(i) * 3600000000n + 123456n;
    return [
      i + 1,
      i % 2 === 0 ? 1 : 0,
      parquetNames[i],
      (BigInt(i) * 1000000000007n - 4611686018427387904n).toString(),
      (18446744073709551615n - BigInt(i)).toString(),
      decimal(BigInt(i * 12345 - 30000), 4),
      decimal(12345678901234567890123456789012345678n - BigInt(i) * 3n, 10),
      [0.1, -2.5, 3.25, 1e10, 0, 7, 0.375, -0.1, 100.5, 2][i],
      i * 0.5 - 1.25,
      Buffer.from([i, 0, 255, 0x27, 0x5c]),
      iso((19000 + i * 400) * 86_400_000).slice(0, 10),
      `${iso(Number(micros / 1000000n) * 1000).slice(0, 19)}.${(micros % 1000000n).toString().padStart(6, '0')}`,
      iso(1700000000123 + i),
      `${String(i).padStart(2, '0')}:00:00.${(time % 1000000n).toString().padStart(6, '0')}`,
    ];
  });
  assert.deepEqual(await sortedRows(db, latinSchema, 'pq_t'), expected);
});

test('a stopped chunk resumes at its position: GBK CSV read from there, GBK zstd SQL skipped to there, Parquet inside a row group', async () => {
  const source = path.join(dir, 'resume-dump');
  const gbk = (text: string) => iconv.encode(text, 'gbk');
  put(source, `${resumeSchema}-schema-create.sql`, `CREATE DATABASE \`${resumeSchema}\`;\n`);
  for (const table of ['csv_t', 'sql_t', 'pq_t']) put(source, `${resumeSchema}.${table}-schema.sql`, `CREATE TABLE \`${table}\` (id INT PRIMARY KEY, txt TEXT) DEFAULT CHARSET=utf8mb4;\n`);
  const rows = Array.from({ length: 20 }, (_, index) => [index + 1, `${texts[index % texts.length]}${index}乗`] as const);
  put(source, `${resumeSchema}.csv_t.000000001.csv`, gbk(`id,txt\n${rows.map(([id, text]) => `${id},${csvField(text)}`).join('\n')}\n`));
  put(source, `${resumeSchema}.sql_t.000000001.sql.zst`, zstd(gbk(rows.map(([id, text]) => `INSERT INTO sql_t VALUES (${id},${sqlString(text)});\n`).join(''))));
  parquetWriteFile({
    filename: path.join(source, `${resumeSchema}.pq_t.000000001.parquet`),
    columnData: [
      { name: 'id', data: rows.map(([id]) => id) },
      { name: 'txt', data: rows.map(([, text]) => text) },
    ],
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'txt', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ],
    rowGroupSize: 4,
  });

  // Small reads and batches: the first attempt stops after a batch or two, mid-file.
  const config = loadConfig(configFor('resume', source, 'data-character-set = "gbk"\nread-block-size = 64', 'logical-import-batch-rows = 3'));
  const settings = { ...taskSettingsOf(config), taskId: uniqueName('task') };
  const pool = createTargetPool(targetSettingsOf(config), 4);
  try {
    const plan = await planSource(settings);
    await ensureProgressTable(pool, taskInfo);
    for (const database of plan.databases) await restoreDatabase(pool, database);
    for (const table of plan.tables) {
      await restoreTable(pool, table);
      const [chunk, ...others] = await planChunks(settings, table.dataFiles);
      assert.equal(others.length, 0, `${table.name}: one chunk`);
      const input: ChunkInput = { settings, table: { key: table.key, schema: table.schema, name: table.name }, chunk };
      const stop = new AbortController();
      const stopped = importChunk({ pool, heartbeat: (beat) => beat.rows > 0 && stop.abort(new Error('stopped')), signal: stop.signal }, input);
      await assert.rejects(stopped, /stopped/, `${table.name}: the first attempt stops`);
      // The batch sent before the stop may still be committing.
      let n = 0;
      for (let wait = 0; n === 0 && wait < 50; wait++) {
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        const [[count]] = (await db.query(`SELECT COUNT(*) AS n FROM \`${resumeSchema}\`.\`${table.name}\``)) as unknown as [[{ n: number }]];
        n = Number(count.n);
      }
      assert.ok(n > 0 && n < rows.length, `${table.name}: stopped part way (${n} rows)`);
      // As Temporal retries: until an attempt finishes (one may meet the stopped attempt's last commit).
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await importChunk({ pool, heartbeat: () => undefined, signal: new AbortController().signal }, input);
          assert.equal(result.rows, rows.length, `${table.name}: the chunk counts every row once`);
          break;
        } catch (error) {
          if (attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      assert.deepEqual(await sortedRows(db, resumeSchema, table.name), rows.map(([id, text]) => [id, text]), `${table.name}: every row once, every value`);
    }
  } finally {
    await pool.end();
  }
});
