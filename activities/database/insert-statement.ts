import type { ResultSetHeader } from 'mysql2/promise';
import type { TaskSettings } from '../task-types';
import { qualifiedName, quoteName } from './sql-text';

/**
 * The multi-row INSERT of a batch, by `on-duplicate`:
 * - `error`: a plain INSERT (a duplicate key fails);
 * - `ignore`: INSERT IGNORE (the row already there stays);
 * - `replace`: INSERT … ON DUPLICATE KEY UPDATE every column (the new row wins). Not REPLACE: the
 *   server reports how many rows met a duplicate for this form, even rows identical to the one
 *   stored, which REPLACE does not; verification needs that count to be exact.
 */
export class InsertStatement {
  private readonly head: string;
  private readonly tail: string;

  constructor(schema: string, table: string, columns: readonly string[], onDuplicate: TaskSettings['onDuplicate']) {
    const names = columns.map(quoteName);
    this.head = `${onDuplicate === 'ignore' ? 'INSERT IGNORE' : 'INSERT'} INTO ${qualifiedName(schema, table)} (${names.join(',')}) VALUES `;
    this.tail = onDuplicate === 'replace' ? ` ON DUPLICATE KEY UPDATE ${names.map((name) => `${name}=VALUES(${name})`).join(',')}` : '';
  }

  /** The statement for rendered rows `(…)`. */
  for(rows: readonly string[]): string {
    return this.head + rows.join(',') + this.tail;
  }
}

/**
 * Source rows of a statement that met a key already in the table (and were merged or dropped by
 * `on-duplicate`). Multi-row statements report it in their info ("Records: n  Duplicates: d");
 * a single row in its affected count (0 or 2 mean it met one: the connections do not ask for
 * "found" rows, so an unchanged duplicate counts 0).
 */
export function duplicatesIn(result: ResultSetHeader, rows: number, onDuplicate: TaskSettings['onDuplicate']): number {
  const reported = /Duplicates:\s*(\d+)/.exec(result.info ?? '');
  if (reported) return Number(reported[1]);
  if (rows !== 1 || onDuplicate === 'error') return 0;
  return result.affectedRows === 1 ? 0 : 1;
}
