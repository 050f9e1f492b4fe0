/**
 * Records the histories that the replay test replays: run it when a deliberate change to the
 * workflows makes old histories obsolete (and say so: in-flight imports of the old shape break).
 *   node dist/test/helpers/record-histories.js [label]
 * With a label, the histories are added beside the others (import-task-{label}.json, …) instead of
 * replacing them: for a new shape of task (a new setting) while tasks of the old shape still run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { makeTempDir, startImport, withWorker, writeConfig } from './import-harness';
import { generateDump } from './dump-fixture';
import { adminConnection, dropDatabases, uniqueName } from './target-db';
import { startTemporal } from './temporal';
import { fetchTaskHistories } from './task-histories';

const fixtures = path.resolve(__dirname, '../../../test/fixtures/histories');

async function main(label: string | undefined): Promise<void> {
  const env = await startTemporal();
  const db = await adminConnection();
  const dir = makeTempDir('tempest-record');
  const schema = uniqueName('tempest_record');
  const taskInfo = `${schema}_info`;
  try {
    // Tables large enough for table and engine workflows (over 64 files each), a bound of two
    // children or groups a run, and a small batch-size: every workflow type continues as new.
    generateDump({ schema, dir: path.join(dir, 'dump'), rows: 2000, rowsPerFile: 12, seed: 7 });
    const config = writeConfig(dir, {
      sourceDir: path.join(dir, 'dump'),
      temporalAddress: env.address,
      taskQueue: 'record',
      taskInfoSchema: taskInfo,
      mydumper: 'batch-size = "64KiB"',
      extra: 'continue-as-new-after = 2',
    });
    const handle = await startImport(env.client, config);
    const histories = await withWorker(env.nativeConnection, env.address, config, async () => {
      await handle.result();
      return fetchTaskHistories(env.client, handle.workflowId);
    });
    fs.mkdirSync(fixtures, { recursive: true });
    // import-task[-label][-run].json, import-table[-label]-N.json, import-engine[-label]-N.json: numbered per workflow type.
    const numbered = new Map<string, number>();
    histories.forEach((recorded) => {
      const suffix = label ? `-${label}` : '';
      const kind = recorded.workflowType.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      const count = (numbered.get(kind) ?? 0) + 1;
      numbered.set(kind, count);
      const name = kind === 'import-task' ? `import-task${suffix}${count > 1 ? `-${count}` : ''}` : `${kind}${suffix}-${count}`;
      const history = JSON.parse(historyToJSON(recorded.history as never));
      fs.writeFileSync(path.join(fixtures, `${name}.json`), JSON.stringify({ workflowId: recorded.workflowId, history }));
    });
    console.log(`recorded ${histories.length} histories in ${fixtures}`);
  } finally {
    await dropDatabases(db, [schema, taskInfo]);
    await db.end();
    await env.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main(process.argv[2]);
