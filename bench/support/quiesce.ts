import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * Waits until InnoDB has written out the pages the previous run dirtied (and purged what its DROP
 * freed): otherwise that background writing lands in the next run and skews the comparison.
 */
export async function quiesce(admin: Connection): Promise<void> {
  const [[saved]] = await admin.query<RowDataPacket[]>('SELECT @@GLOBAL.innodb_max_dirty_pages_pct AS pct');
  await admin.query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
  try {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const [rows] = await admin.query<RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_history_list_length')");
      if (rows.every((row) => Number(row.Value) < 64)) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log('  (InnoDB still had dirty pages after 3 minutes: going on)');
  } finally {
    await admin.query(`SET GLOBAL innodb_max_dirty_pages_pct = ${Number(saved.pct)}`);
  }
}
