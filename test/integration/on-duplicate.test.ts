import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { importConfigDirectly, writeDirectConfig } from '../helpers/direct-import';
import { sortedRows, testScratch, uniqueName } from '../helpers/target-db';

const scratch = testScratch('tempest-on-duplicate');
const { dir, databases } = scratch;

/** A keyed table whose dump repeats keys: once with the same row, once with a changed one, across batches and files. */
function writeDump(schema: string): string {
  const source = path.join(dir, schema);
  fs.mkdirSync(source, { recursive: true });
  fs.writeFileSync(path.join(source, `${schema}.t-schema.sql`), 'CREATE TABLE `t` (id INT PRIMARY KEY, v VARCHAR(10) NOT NULL);\n');
  fs.writeFileSync(path.join(source, `${schema}.t.000000000.sql`), "INSERT INTO `t` VALUES (1,'a'),(2,'b'),(3,'c');\nINSERT INTO `t` VALUES (2,'b'),(3,'C');\n");
  fs.writeFileSync(path.join(source, `${schema}.t.000000001.sql`), "INSERT INTO `t` VALUES (4,'d');\nINSERT INTO `t` VALUES (4,'d');\n");
  return source;
}

for (const [onDuplicate, expected] of [
  ['replace', [[1, 'a'], [2, 'b'], [3, 'C'], [4, 'd']]],
  ['ignore', [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]],
] as const) {
  test(`on-duplicate = "${onDuplicate}": repeated keys, identical or not, are merged, counted, and the table still verifies`, async () => {
    const schema = uniqueName(`tempest_dup_${onDuplicate}`);
    databases.push(schema, `${schema}_info`);
    const config = writeDirectConfig(path.join(dir, `${schema}-config`), {
      sourceDir: writeDump(schema),
      taskInfoSchema: `${schema}_info`,
      // One row a batch: single-row statements report duplicates differently from multi-row ones.
      importer: `on-duplicate = "${onDuplicate}"\nlogical-import-batch-rows = ${onDuplicate === 'replace' ? 1 : 2}`,
    });
    const [table] = (await importConfigDirectly(config)).tables;
    assert.equal(table.rows, 7, 'every source row read');
    assert.equal(table.verify.targetRows, 4);
    assert.match(table.verify.note ?? '', /3 source rows had a duplicate key and were merged/);
    assert.deepEqual(await sortedRows(scratch.db, schema, 't'), expected);
  });
}
