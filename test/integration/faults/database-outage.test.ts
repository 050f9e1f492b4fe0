import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultScenario } from '../../helpers/fault-scenario';
import { mariadb } from '../../helpers/target-db';
import { startTcpProxy } from '../../helpers/tcp-proxy';

const scenario = faultScenario('tempest_fault_outage');

test('the database unreachable twice for 5 s mid-import (a proxy stopped and started): every table ends equal to a plain-client load', async () => {
  const proxy = await startTcpProxy(mariadb);
  try {
    const config = scenario.config({ port: proxy.port });
    const importing = scenario.runImport(config);
    scenario.startWorker(config);
    const rowsAtOutages: number[] = [];
    for (const fraction of [0.2, 0.55]) {
      await scenario.rowsCommitted(fraction);
      await proxy.stop();
      rowsAtOutages.push(await scenario.committed());
      await new Promise((resolve) => setTimeout(resolve, 5000));
      assert.equal(await scenario.committed(), rowsAtOutages.at(-1), 'nothing was committed while the database was unreachable');
      await proxy.start();
    }
    const { code, output } = await importing;
    assert.equal(code, 0, `tempest import succeeded:\n${output}`);
    assert.ok(rowsAtOutages.every((rows) => rows < scenario.totalRows), `both outages were mid-import (${rowsAtOutages.join(', ')} of ${scenario.totalRows} rows)`);
    assert.ok(proxy.cuts > 0, 'the outages cut open connections');
    await scenario.assertTablesEqualReference();
  } finally {
    await proxy.stop();
  }
});
