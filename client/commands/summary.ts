import type { ImportTaskResult } from '../../workflows/definitions';

/** What a task of Tempest 0.1 returned: one line per table. */
interface Release01Result {
  tables: Array<{ key: string; rows: number; verify?: { status: string; note?: string } }>;
}

/** Prints the task's outcome; returns the exit code: 0 only when every table was verified (or verification is off by choice). */
export function printSummary(result: ImportTaskResult | Release01Result, out: (line: string) => void): number {
  const outcome = Array.isArray(result.tables) ? fromRelease01(result as Release01Result) : (result as ImportTaskResult);
  if (outcome.takenOver) {
    const { source, tables, chunks, rows } = outcome.takenOver;
    out(`took over the Lightning checkpoint in ${source}: ${tables} tables, ${chunks} chunks, ${rows} rows it had imported`);
  }
  for (const { key, note } of outcome.notes) out(`${key}: ${note}`);
  const removed = outcome.removed > 0 ? `, ${outcome.removed} removed from the task` : '';
  out(`import finished: ${outcome.tables} tables, ${outcome.rows} rows, ${outcome.checksummed} verified by checksum${removed}`);
  return outcome.notes.some((note) => note.failed) ? 1 : 0;
}

function fromRelease01(result: Release01Result): ImportTaskResult {
  return {
    tables: result.tables.length,
    rows: result.tables.reduce((sum, table) => sum + table.rows, 0),
    checksummed: result.tables.filter((table) => table.verify?.status === 'checksummed').length,
    removed: 0,
    notes: result.tables.flatMap((table) => (table.verify?.note ? [{ key: table.key, note: table.verify.note, failed: table.verify.note.includes('verification failed') }] : [])),
  };
}
