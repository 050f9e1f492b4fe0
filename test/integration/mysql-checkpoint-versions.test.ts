import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTargetPool } from '../../activities/database/connection';
import { chunkTableDdl } from '../../activities/checkpoint/chunk-table';
import { ensureCheckpointTables, readCheckpointTables, writeCheckpointTables } from '../../activities/checkpoint/mysql-driver';
import type { CheckpointModel } from '../../activities/checkpoint/checkpoint-model';
import { mariadb, testScratch, uniqueName } from '../helpers/target-db';

const scratch = testScratch('tempest-mysql-checkpoint');

const model: CheckpointModel = {
  task: { taskId: '1764000000000000000', sourceDir: 'file:///data/dump', backend: 'tidb', tidbHost: '127.0.0.1', tidbPort: 4000, lightningVersion: 'v8.5.0' },
  tables: [
    {
      key: '`shop`.`orders`',
      status: 30,
      engines: [{ id: 0, status: 30, chunks: [{ path: 'shop.orders.000000001.sql', offset: 0, endOffset: 900, pos: 450, rows: 12, type: 'sql', compression: 'none', fileSize: 900, timestamp: 0, sortKey: '' }] }],
    },
  ],
};

for (const version of ['chunk_v5', 'chunk_v6'] as const) {
  test(`a checkpoint schema holding ${version} is read and written in ${version}`, async () => {
    const schema = uniqueName('tempest_ckv');
    scratch.databases.push(schema);
    const pool = createTargetPool({ ...mariadb, sqlMode: '', tls: '', caPath: '', certPath: '', keyPath: '', maxAllowedPacket: 64 * 1024 * 1024 }, 2);
    try {
      await scratch.db.query(`CREATE DATABASE \`${schema}\``);
      // The chunk table as the run that wrote the schema left it, before Tempest touches the schema.
      await scratch.db.query(chunkTableDdl(`\`${schema}\``, version));
      assert.equal(await ensureCheckpointTables(pool, schema), version);
      await writeCheckpointTables(pool, schema, model);
      const [rows] = await scratch.db.query(`SELECT path, pos, kvc_kvs FROM \`${schema}\`.${version}`);
      assert.deepEqual(JSON.parse(JSON.stringify(rows)), [{ path: 'shop.orders.000000001.sql', pos: '450', kvc_kvs: '12' }]);
      const read = await readCheckpointTables(pool, schema);
      assert.equal(read.tables[0].engines[0].chunks[0].pos, 450);
      assert.equal(read.tables[0].engines[0].chunks[0].rows, 12);
      assert.equal(read.task.sourceDir, 'file:///data/dump');
      const [other] = await scratch.db.query(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'chunk_v%'`, [schema]);
      assert.equal((other as unknown[]).length, 1, 'no second chunk table is created');
    } finally {
      await pool.end();
    }
  });
}
