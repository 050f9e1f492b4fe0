import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultScenario } from '../../helpers/fault-scenario';

const scenario = faultScenario('tempest_fault_temporal');

test('kill -9 of the Temporal server mid-import, down 3 s, restarted on the same history: every table ends equal to a plain-client load', async () => {
  const config = scenario.config();
  const first = scenario.runImport(config);
  scenario.startWorker(config);

  await scenario.rowsCommitted(0.3);
  // Measured as it is killed: a running activity goes on writing while the server is down.
  const rowsAtKill = await scenario.committed();
  await scenario.killTemporal(3000);

  let { code, output } = await first;
  // The command may lose its server; the operator runs it again, which attaches to the task.
  if (code !== 0) ({ code, output } = await scenario.runImport(config));
  assert.equal(code, 0, `tempest import succeeded:\n${output}`);
  assert.ok(rowsAtKill < scenario.totalRows, 'the server was killed before the import had finished');
  await scenario.assertTablesEqualReference();
});
