import * as mysqlPromise from 'mysql2/promise';

type Queryable = { prototype: { query: (...args: unknown[]) => unknown } };
/** mysql2's promise classes (exported at run time, not in its types); a pool connection is a PromiseConnection. */
const { PromiseConnection, PromisePool } = mysqlPromise as unknown as { PromiseConnection: Queryable; PromisePool: Queryable };

/**
 * Records the statements this process sends through mysql2 (an in-process worker's included) that
 * match `pattern`, as text (the byte strings Tempest sends, read as UTF-8), until `stop()`. For a
 * step whose effect leaves no other trace: which ALTER added which indexes, say.
 */
export function spyOnStatements(pattern: RegExp): { statements: string[]; stop(): void } {
  const statements: string[] = [];
  const restore: Array<() => void> = [];
  for (const prototype of [PromisePool.prototype, PromiseConnection.prototype]) {
    const original = prototype.query;
    prototype.query = function (this: unknown, ...args: unknown[]) {
      const sql = typeof args[0] === 'string' ? args[0] : (args[0] as { sql?: unknown } | undefined)?.sql;
      if (typeof sql === 'string') {
        const text = /^[\x00-\xff]*$/.test(sql) ? Buffer.from(sql, 'latin1').toString('utf8') : sql;
        if (pattern.test(text)) statements.push(text);
      }
      return original.apply(this, args);
    };
    restore.push(() => {
      prototype.query = original;
    });
  }
  return { statements, stop: () => restore.forEach((undo) => undo()) };
}
