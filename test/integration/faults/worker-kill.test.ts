import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../helpers/dump-fixture';
import { faultScenario } from '../../helpers/fault-scenario';

const scenario = faultScenario('tempest_fault_worker');

test('kill -9 of the only `tempest worker` at two random moments of the import: every table ends equal to a plain-client load', async () => {
  const config = scenario.config();
  const importing = scenario.runImport(config);
  let finished = false;
  void importing.then(() => (finished = true));
  let worker = scenario.startWorker(config);

  // Kill at random points of the import's own progress (committed rows), so every kill lands
  // mid-import however fast the machine is; the worker is restarted right away each time.
  const random = seededRandom(3);
  const killPoints = Array.from({ length: 2 }, () => 0.05 + random() * 0.85).sort((a, b) => a - b);
  let kills = 0;
  while (!finished && kills < killPoints.length) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if ((await scenario.committed()) < killPoints[kills] * scenario.totalRows || finished) continue;
    await scenario.kill9(worker);
    kills++;
    worker = scenario.startWorker(config);
  }
  const { code, output } = await importing;
  assert.equal(code, 0, `tempest import succeeded:\n${output}`);
  assert.equal(kills, 2, 'the worker was killed twice during the import');
  await scenario.assertTablesEqualReference();
});
