import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Connection, Pool, RowDataPacket } from 'mysql2/promise';
import { planSource } from '../../activities/source/plan-source';
import { CheckpointStatus } from '../../workflows/checkpoint-status';
import { importDirectly, poolOfConfig, settingsOfConfig } from '../helpers/direct-import';
import { importOutcome, makeTempDir, startImport, withWorker, writeConfig } from '../helpers/import-harness';
import { adminConnection, dropDatabases, sortedRows, uniqueName } from '../helpers/target-db';
import { startTemporal } from '../helpers/temporal';

/**
 * Which file goes into which table: `[[mydumper.files]]` rules for layouts that are not Dumpling's,
 * `filter`, `[[routes]]` merging shards (with the precheck that their schemas agree) and
 * `no-schema`. Each import is checked value by value in MariaDB.
 */

let db: Connection;
let pool: Pool;
const prefix = uniqueName('tempest_route');
const taskInfo = `${prefix}_info`;
const dir = makeTempDir('tempest-route');
const created = new Set<string>([taskInfo]);

before(async () => {
  db = await adminConnection();
  pool = poolOfConfig(configFor('pool', path.join(dir, 'none')));
});

after(async () => {
  const [databases] = await db.query<RowDataPacket[]>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${prefix}%`]);
  await dropDatabases(db, [...created, ...databases.map((row) => String(row.name))]);
  await pool.end();
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

function put(folder: string, name: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
  fs.writeFileSync(path.join(folder, name), text);
}

function configFor(name: string, sourceDir: string, options: { mydumper?: string; extra?: string; temporalAddress?: string } = {}): string {
  return writeConfig(path.join(dir, `${name}-config`), {
    sourceDir,
    temporalAddress: options.temporalAddress ?? '127.0.0.1:1',
    taskQueue: uniqueName('q'),
    taskInfoSchema: taskInfo,
    mydumper: options.mydumper,
    extra: options.extra,
  });
}

async function tablesOf(schema: string): Promise<string[]> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [schema]);
  return rows.map((row) => String(row.name));
}

test('[[mydumper.files]]: a layout of its own (data/orders/part-001.csv), Lightning-style rules with (?i), ${1}, type = "$3" and key ordering', async () => {
  const schema = `${prefix}_files`;
  const source = path.join(dir, 'files-dump');
  put(source, 'ddl/database.sql', `CREATE DATABASE \`${schema}\`;\n`);
  put(source, 'ddl/orders.sql', 'CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20), part INT);\n');
  put(source, 'ddl/items.sql', 'CREATE TABLE items (name VARCHAR(20) PRIMARY KEY, price DECIMAL(6,2));\n');
  put(source, 'data/orders/part-001.csv', 'id,item,part\n1,apple,1\n2,pear,1\n');
  put(source, 'data/orders/PART-002.CSV', 'id,item,part\n3,plum,2\n');
  put(source, 'data/orders/part-010.csv', 'id,item,part\n4,fig,10\n');
  // An ignore rule before the data rule keeps this file out.
  put(source, 'data/orders/part-999.csv', 'id,item,part\n999,broken\n');
  put(source, 'data/items/part-1.sql', "INSERT INTO items VALUES ('apple',1.50),('pear',2.25);\n");
  put(source, 'README.txt', 'not data\n');
  const config = configFor('files', source, {
    extra: `
[[mydumper.files]]
pattern = 'part-999'
type = 'ignore'

[[mydumper.files]]
pattern = '^ddl/database\\.sql$'
schema = '${schema}'
type = 'schema-schema'

[[mydumper.files]]
pattern = '^ddl/(?P<table>[[:alpha:]]+)\\.sql\\z'
schema = '${schema}'
table = '$table'
type = 'table-schema'

[[mydumper.files]]
pattern = '(?i)^data/([a-z]+)/part-(\\d+)\\.(csv|sql)$'
schema = '${schema}'
table = '\${1}'
type = '$3'
key = '$2'
`,
  });
  const settings = settingsOfConfig(config);
  const plan = await planSource(settings);
  const orders = plan.tables.find((table) => table.name === 'orders');
  assert.deepEqual(
    orders?.dataFiles.map((file) => [path.relative(source, file.path), file.type, file.key]),
    [
      ['data/orders/part-001.csv', 'csv', '001'],
      ['data/orders/PART-002.CSV', 'csv', '002'],
      ['data/orders/part-010.csv', 'csv', '010'],
    ],
    'data files in key order, the ignored one left out',
  );
  assert.deepEqual(plan.tables.map((table) => table.key).sort(), [`\`${schema}\`.\`items\``, `\`${schema}\`.\`orders\``]);

  const outcome = await importDirectly(pool, settings);
  assert.ok(outcome.tables.every((table) => table.verify.status === 'checksummed'));
  assert.deepEqual(await sortedRows(db, schema, 'orders'), [
    [1, 'apple', 1],
    [2, 'pear', 1],
    [3, 'plum', 2],
    [4, 'fig', 10],
  ]);
  assert.deepEqual(await sortedRows(db, schema, 'items'), [
    ['apple', '1.50'],
    ['pear', '2.25'],
  ]);
});

test('[[mydumper.files]]: a type template that gives no known type, and a reference to a missing group, are errors naming the rule', async () => {
  const source = path.join(dir, 'bad-rule-dump');
  put(source, 'data/t.txt', 'x\n');
  const badType = settingsOfConfig(configFor('bad-type', source, { extra: `[[mydumper.files]]\npattern = '^data/(\\w+)\\.(\\w+)$'\nschema = 's'\ntable = '$1'\ntype = '$2'\n` }));
  await assert.rejects(planSource(badType), /pattern "\^data\/\(\\w\+\)\\.\(\\w\+\)\$": its type "\$2" gives "txt" for data\/t\.txt, which is not one of sql, csv/);
  const badGroup = settingsOfConfig(configFor('bad-group', source, { extra: `[[mydumper.files]]\npattern = '^data/(\\w+)\\.txt$'\nschema = 's'\ntable = '$1x'\ntype = 'csv'\n` }));
  await assert.rejects(planSource(badGroup), /"\$1x" refers to group 1x, which the pattern does not have \(as in Go, \$1x is the group named "1x": write \$\{1\}x\)/);
});

/** A dump of `schema` with one small SQL table per name. */
function tablesDump(source: string, schema: string, names: string[]): void {
  put(source, `${schema}-schema-create.sql`, `CREATE DATABASE \`${schema}\`;\n`);
  for (const name of names) {
    put(source, `${schema}.${name}-schema.sql`, `CREATE TABLE \`${name}\` (id INT PRIMARY KEY, who VARCHAR(30));\n`);
    put(source, `${schema}.${name}.000000001.sql`, `INSERT INTO \`${name}\` VALUES (1,'${name}'),(2,'${name}!');\n`);
  }
}

for (const caseSensitive of [false, true]) {
  test(`filter: include and exclude, later rules win, ${caseSensitive ? 'case-sensitive = true' : 'case-insensitive by default'}`, async () => {
    const schema = `${prefix}_filter_${caseSensitive ? 'cs' : 'ci'}`;
    const source = path.join(dir, `${schema}-dump`);
    tablesDump(source, schema, ['keep_me', 'Drop_Me', 'logs_2020', 'logs_2021']);
    tablesDump(source, `${schema}_other`, ['t']);
    const filter = [`${schema}.*`, `!${schema}.logs_*`, `${schema}.logs_2021`, `!${schema.toUpperCase()}.DROP_ME`];
    const config = configFor(schema, source, { mydumper: `filter = ${JSON.stringify(filter)}${caseSensitive ? '\ncase-sensitive = true' : ''}` });
    const outcome = await importDirectly(pool, settingsOfConfig(config));
    const expected = caseSensitive ? ['Drop_Me', 'keep_me', 'logs_2021'] : ['keep_me', 'logs_2021'];
    assert.deepEqual(outcome.tables.map((table) => table.key).sort(), expected.map((name) => `\`${schema}\`.\`${name}\``).sort());
    assert.deepEqual(await tablesOf(schema), expected.sort());
    assert.deepEqual(await tablesOf(`${schema}_other`), [], 'a database no rule includes is left out');
    for (const name of expected) assert.deepEqual(await sortedRows(db, schema, name), [[1, name], [2, `${name}!`]]);
  });
}

/** Shards `${prefix}_shard_NN` of `orders` (and, in the first, `customers`); `orders` columns as given per shard. */
function shardsDump(source: string, shards: Array<{ number: number; ordersColumns: string; rows: string }>): void {
  for (const { number, ordersColumns, rows } of shards) {
    const schema = `${prefix}_shard_${String(number).padStart(2, '0')}`;
    put(source, `${schema}-schema-create.sql`, `CREATE DATABASE \`${schema}\`;\n`);
    put(source, `${schema}.orders-schema.sql`, `CREATE TABLE \`orders\` (${ordersColumns}) ENGINE=InnoDB AUTO_INCREMENT=${number * 1000};\n`);
    put(source, `${schema}.orders.000000001.sql`, `INSERT INTO \`orders\` VALUES ${rows};\n`);
    if (number === 1) {
      put(source, `${schema}.customers-schema.sql`, 'CREATE TABLE `customers` (id INT PRIMARY KEY, name VARCHAR(20));\n');
      put(source, `${schema}.customers.000000001.csv`, 'id,name\n7,ann\n8,bob\n');
    }
  }
}

const ordersColumns = 'id BIGINT NOT NULL, shard INT NOT NULL, amount DECIMAL(10,2) NULL, PRIMARY KEY (id, shard)';
// The schema-only rule comes first: the table rule still wins for orders, as in Lightning's router.
const routes = `
[[routes]]
schema-pattern = "${prefix}_shard_*"
target-schema = "${prefix}_all"

[[routes]]
schema-pattern = "${prefix}_shard_*"
table-pattern = "orders"
target-schema = "${prefix}_all"
target-table = "all_orders"
`;

test('[[routes]] through the workflow: shard_01.orders and shard_02.orders merge into all.all_orders, other tables follow their schema', async () => {
  const env = await startTemporal();
  try {
    const source = path.join(dir, 'shards-dump');
    shardsDump(source, [
      { number: 1, ordersColumns, rows: '(1,1,10.50),(2,1,NULL)' },
      // Same columns, written differently: the precheck compares what the server makes of them.
      { number: 2, ordersColumns: '`id` bigint(20) NOT NULL, `shard` int NOT NULL, `amount` decimal(10,2) DEFAULT NULL, KEY k (amount), PRIMARY KEY (`id`,`shard`)', rows: '(1,2,99.99),(3,2,0.01)' },
    ]);
    const config = configFor('shards', source, { extra: routes, temporalAddress: env.address });
    const result = await withWorker(env.nativeConnection, env.address, config, async () => importOutcome(await startImport(env.client, config), config));
    assert.deepEqual(result.tables.map((table) => table.key).sort(), [`\`${prefix}_all\`.\`all_orders\``, `\`${prefix}_all\`.\`customers\``]);
    for (const table of result.tables) {
      assert.equal(table.status, CheckpointStatus.analyzed, JSON.stringify(table));
      assert.equal(table.verify?.status, 'checksummed', table.verify?.note);
    }
    assert.deepEqual(await sortedRows(db, `${prefix}_all`, 'all_orders'), [
      ['1', 1, '10.50'],
      ['1', 2, '99.99'],
      ['2', 1, null],
      ['3', 2, '0.01'],
    ]);
    assert.deepEqual(await sortedRows(db, `${prefix}_all`, 'customers'), [[7, 'ann'], [8, 'bob']]);
    const [shardDatabases] = await db.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${prefix}_shard%`]);
    assert.equal(shardDatabases.length, 0, 'the routed-away shard databases are not created');
  } finally {
    await env.teardown();
  }
});

test('[[routes]] precheck: shards whose columns differ are refused before any row is written, naming the tables and the first difference', async () => {
  const source = path.join(dir, 'bad-shards-dump');
  shardsDump(source, [
    { number: 1, ordersColumns, rows: '(1,1,1.00)' },
    { number: 2, ordersColumns, rows: '(1,2,2.00)' },
    { number: 3, ordersColumns: 'id BIGINT NOT NULL, shard INT NOT NULL, amount DECIMAL(12,2) NULL, PRIMARY KEY (id, shard)', rows: '(1,3,3.00)' },
  ]);
  const config = configFor('bad-shards', source, { extra: routes.replaceAll(`${prefix}_all`, `${prefix}_bad`) });
  await assert.rejects(importDirectly(pool, settingsOfConfig(config)), (error: Error) => {
    assert.match(error.message, /^precheck failed: /);
    assert.ok(error.message.includes(`\`${prefix}_bad\`.\`all_orders\` merges sharded tables whose columns differ`), error.message);
    assert.ok(
      error.message.includes(
        `column 3 of \`${prefix}_shard_03\`.\`orders\` (${source}/${prefix}_shard_03.orders-schema.sql) is \`amount\` decimal(12,2) null, ` +
          `where \`${prefix}_shard_01\`.\`orders\` (${source}/${prefix}_shard_01.orders-schema.sql) has \`amount\` decimal(10,2) null`,
      ),
      error.message,
    );
    return true;
  });
  const [rows] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${prefix}_bad\`.all_orders`);
  assert.equal(Number(rows[0].n), 0, 'no row was written');
  const [scratch] = await db.query<RowDataPacket[]>("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'tempest_shard_check%'", [taskInfo]);
  assert.equal(scratch.length, 0, 'the scratch tables of the check are gone');

  // A missing column is named too.
  const missing = path.join(dir, 'missing-shards-dump');
  shardsDump(missing, [
    { number: 1, ordersColumns, rows: '(1,1,1.00)' },
    { number: 2, ordersColumns: 'id BIGINT NOT NULL, shard INT NOT NULL, PRIMARY KEY (id, shard)', rows: '(1,2)' },
  ]);
  const missingConfig = configFor('missing-shards', missing, { extra: routes.replaceAll(`${prefix}_all`, `${prefix}_missing`) });
  await assert.rejects(importDirectly(pool, settingsOfConfig(missingConfig)), /`[^`]+_shard_02`\.`orders` \([^)]+\) has no column 3, where `[^`]+_shard_01`\.`orders` \([^)]+\) has `amount` decimal\(10,2\) null/);
});

test('[[routes]]: two rules of the same kind matching one table are an error naming both', async () => {
  const source = path.join(dir, 'ambiguous-dump');
  tablesDump(source, `${prefix}_amb`, ['t']);
  const config = configFor('ambiguous', source, {
    extra: `[[routes]]\nschema-pattern = "${prefix}_amb"\ntarget-schema = "x"\n\n[[routes]]\nschema-pattern = "${prefix}_a*"\ntarget-schema = "y"\n`,
  });
  await assert.rejects(planSource(settingsOfConfig(config)), /`[^`]+_amb`\.`t` matches 2 rules/);
});

test('no-schema = true: tables created beforehand (another column order, an extra column) receive the rows; schema files are not used', async () => {
  const schema = `${prefix}_noschema`;
  await db.query(`CREATE DATABASE \`${schema}\``);
  await db.query(`CREATE TABLE \`${schema}\`.\`t\` (extra VARCHAR(10) NOT NULL DEFAULT 'x', b VARCHAR(10), a INT NOT NULL PRIMARY KEY)`);
  await db.query(`CREATE TABLE \`${schema}\`.\`c\` (a INT NOT NULL PRIMARY KEY, b VARCHAR(10))`);
  const source = path.join(dir, 'noschema-dump');
  // A schema file that would make another table: with no-schema it must not matter.
  put(source, `${schema}.t-schema.sql`, 'CREATE TABLE t (only_this INT);\n');
  put(source, `${schema}.t.000000001.sql`, "INSERT INTO t (a, b) VALUES (1,'one'),(2,NULL);\n");
  put(source, `${schema}.c.000000001.csv`, 'b,a\nthree,3\n');
  const config = configFor('noschema', source, { mydumper: 'no-schema = true' });
  const outcome = await importDirectly(pool, settingsOfConfig(config));
  const verified = Object.fromEntries(outcome.tables.map((table) => [table.key, table.verify]));
  assert.equal(verified[`\`${schema}\`.\`c\``].status, 'checksummed');
  // `extra` takes its default, which the source checksum cannot predict: the rows are counted instead.
  assert.equal(verified[`\`${schema}\`.\`t\``].targetRows, 2);
  assert.deepEqual(await sortedRows(db, schema, 't'), [
    ['x', null, 2],
    ['x', 'one', 1],
  ]);
  assert.deepEqual(await sortedRows(db, schema, 'c'), [[3, 'three']]);

  // A table the dump has but the target lacks is named, with what to do.
  put(source, `${schema}.absent.000000001.sql`, 'INSERT INTO absent VALUES (1);\n');
  await assert.rejects(
    importDirectly(pool, settingsOfConfig(configFor('noschema-absent', source, { mydumper: `no-schema = true\nfilter = ["${schema}.absent"]` }))),
    /`[^`]+_noschema`\.`absent` does not exist in the target \(with \[mydumper\] no-schema = true it must be created beforehand\)/,
  );
});
