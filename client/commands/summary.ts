import { describeStatus } from '../../workflows/checkpoint-status';
import type { ImportTaskResult } from '../../workflows/import-task';

/** Prints each table's outcome; returns the exit code: 0 only when every table was verified (or verification is off by choice). */
export function printSummary(result: ImportTaskResult, out: (line: string) => void): number {
  let unverified = 0;
  for (const table of result.tables) {
    const note = table.verify?.note ? ` (${table.verify.note})` : '';
    out(`${table.key}: ${describeStatus(table.status)}, ${table.rows} rows${note}`);
    if (table.verify && table.verify.status !== 'checksummed' && table.verify.note?.includes('verification failed')) unverified++;
  }
  const rows = result.tables.reduce((sum, table) => sum + table.rows, 0);
  const checksummed = result.tables.filter((table) => table.verify?.status === 'checksummed').length;
  out(`import finished: ${result.tables.length} tables, ${rows} rows, ${checksummed} verified by checksum`);
  return unverified > 0 ? 1 : 0;
}
