import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { faultScenario } from '../../helpers/fault-scenario';
import { uniqueName } from '../../helpers/target-db';

const scenario = faultScenario('tempest_fault_kills');

test("KILL of all of Tempest's target connections every second for ten seconds of the import: every table ends equal to a plain-client load", async () => {
  // A user of Tempest's own, so that only its connections are killed.
  const user = uniqueName('tempest_u');
  const password = uniqueName('pw');
  await scenario.db.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
  await scenario.db.query('GRANT ALL PRIVILEGES ON *.* TO ?@?', [user, '%']);
  try {
    const config = scenario.config({ user, password });
    const importing = scenario.runImport(config);
    let finished = false;
    void importing.then(() => (finished = true));
    scenario.startWorker(config);
    await scenario.rowsCommitted(0.1);

    let killed = 0;
    let rounds = 0;
    while (!finished && rounds < 10) {
      const [connections] = await scenario.db.query<RowDataPacket[]>('SELECT id FROM information_schema.PROCESSLIST WHERE user = ?', [user]);
      for (const { id } of connections) {
        // A connection may be gone between the list and the KILL.
        await scenario.db.query('KILL CONNECTION ?', [id]).then(() => killed++, () => undefined);
      }
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const { code, output } = await importing;
    assert.equal(code, 0, `tempest import succeeded:\n${output}`);
    assert.ok(rounds >= 3 && killed >= 3, `connections were killed mid-import (${killed} in ${rounds} rounds)`);
    await scenario.assertTablesEqualReference();
  } finally {
    await scenario.db.query('DROP USER IF EXISTS ?@?', [user, '%']);
  }
});
