import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { workflowBundle } from '../../worker/workflow-bundle';

const compiledWorkflow = path.resolve(__dirname, '../../workflows/import-task.js');

test("workers use setup's prebuilt workflow bundle, and bundle afresh once a compiled workflow is newer", async () => {
  const fresh = await workflowBundle();
  assert.ok('codePath' in fresh, 'setup bundled the workflows: the bundle file is used as it is');
  assert.ok(fs.existsSync(fresh.codePath));

  const { atime, mtime } = fs.statSync(compiledWorkflow);
  const later = new Date(fs.statSync(fresh.codePath).mtimeMs + 60_000);
  fs.utimesSync(compiledWorkflow, later, later);
  try {
    const rebuilt = await workflowBundle();
    assert.ok('code' in rebuilt && rebuilt.code.includes('importTask'), 'a stale bundle is passed over: the workflows are bundled now');
  } finally {
    fs.utimesSync(compiledWorkflow, atime, mtime);
  }
});
