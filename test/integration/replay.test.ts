import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

const fixtures = path.resolve(__dirname, '../../../test/fixtures/histories');

test('recorded import histories replay on the current workflow code (an in-flight import survives an upgrade)', async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const files = fs.readdirSync(fixtures).filter((name) => name.endsWith('.json'));
  assert.ok(files.some((name) => name.startsWith('import-task')) && files.some((name) => name.startsWith('import-table')), 'histories of both workflows are recorded');
  // Histories of this release's task, table and engine workflows, each continued as new at least once (record-histories.ts g2).
  for (const kind of ['import-task-g2', 'import-table-g2', 'import-engine-g2']) assert.ok(files.some((name) => name.startsWith(kind)), `${kind} histories are recorded`);
  const histories = files.map((name) => {
    const recorded = JSON.parse(fs.readFileSync(path.join(fixtures, name), 'utf8')) as { workflowId: string; history: unknown };
    return { workflowId: recorded.workflowId, history: historyFromJSON(recorded.history) };
  });
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    assert.equal(result.error, undefined, `${result.workflowId} replays without a nondeterminism error`);
    replayed++;
  }
  assert.equal(replayed, files.length);
});
