import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { planSource } from '../../activities/source/plan-source';
import { loadConfig } from '../../client/config/load';
import { taskSettingsOf } from '../../client/task-settings';

test('a database of the dump with no table is still planned (created), unless the filter leaves it out', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-plan-'));
  try {
    const dump = path.join(dir, 'dump');
    fs.mkdirSync(dump);
    fs.writeFileSync(path.join(dump, 'lonely-schema-create.sql'), 'CREATE DATABASE lonely;\n');
    fs.writeFileSync(path.join(dump, 'mysql-schema-create.sql'), 'CREATE DATABASE mysql;\n');
    fs.writeFileSync(path.join(dump, 'shop-schema-create.sql'), 'CREATE DATABASE shop;\n');
    fs.writeFileSync(path.join(dump, 'shop.items-schema.sql'), 'CREATE TABLE items (id INT);\n');
    fs.writeFileSync(path.join(dump, 'shop.items.sql'), 'INSERT INTO items VALUES (1);\n');
    const config = path.join(dir, 'tidb-lightning.toml');
    fs.writeFileSync(config, `[mydumper]\ndata-source-dir = ${JSON.stringify(dump)}\n`);
    const plan = await planSource({ ...taskSettingsOf(loadConfig(config)), taskId: 'plan-test' });
    assert.deepEqual(plan.databases.map((database) => database.name).sort(), ['lonely', 'shop'], 'lonely is created; mysql is filtered out by the default filter');
    assert.equal(plan.databases.find((database) => database.name === 'lonely')?.schemaFile, path.join(dump, 'lonely-schema-create.sql'));
    assert.deepEqual(plan.tables.map((table) => table.key), ['`shop`.`items`']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
