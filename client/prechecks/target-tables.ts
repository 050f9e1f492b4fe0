import type { Pool, RowDataPacket } from 'mysql2/promise';
import { textOf } from '../../activities/database/connection';
import { qualifiedName, quoteText } from '../../activities/database/sql-text';
import type { SourcePlan } from '../../activities/task-types';

/** Tables looked at per statement: one round trip for most dumps, a bounded statement for any. */
const tablesPerStatement = 500;
/** Tables named in the message; the rest are counted. */
const tablesNamed = 5;

/**
 * The tables the plan writes are empty where they exist (a new task wrote none of their rows), and
 * exist with `no-schema`: the task would refuse them once started, leaving a failed task behind.
 * Tables a Lightning checkpoint lists (`takenOver`) may hold rows: the task takes them over, and
 * checks them itself against what the checkpoint says was imported.
 */
export async function checkTargetTables(pool: Pool, plan: SourcePlan, noSchema: boolean, takenOver: ReadonlySet<string> = new Set()): Promise<string | undefined> {
  const schemas = [...new Set(plan.tables.map((table) => table.schema))];
  if (schemas.length === 0) return undefined;
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (${schemas.map(quoteText).join(', ')})`,
  );
  const existing = new Set(rows.map((row) => JSON.stringify([textOf(row.TABLE_SCHEMA).toLowerCase(), textOf(row.TABLE_NAME).toLowerCase()])));
  const exists = (table: SourcePlan['tables'][number]) => existing.has(JSON.stringify([table.schema.toLowerCase(), table.name.toLowerCase()]));

  if (noSchema) {
    const missing = plan.tables.filter((table) => !exists(table));
    if (missing.length > 0) return `${namedList(missing.map((table) => table.key))} ${missing.length === 1 ? 'does' : 'do'} not exist in the target: with [mydumper] no-schema = true, create them beforehand`;
  }
  const present = plan.tables.filter((table) => exists(table) && !takenOver.has(table.key));
  const holding: SourcePlan['tables'] = [];
  for (let start = 0; start < present.length; start += tablesPerStatement) {
    const batch = present.slice(start, start + tablesPerStatement);
    const [found] = await pool.query<RowDataPacket[]>(batch.map((table, index) => `(SELECT ${index} AS n FROM ${qualifiedName(table.schema, table.name)} LIMIT 1)`).join(' UNION ALL '));
    for (const row of found) holding.push(batch[Number(row.n)]);
  }
  if (holding.length === 0) return undefined;
  const [first] = holding;
  return (
    `${namedList(holding.map((table) => table.key))} already ${holding.length === 1 ? 'holds' : 'hold'} rows; Tempest imports only into empty tables so that no row is written twice: ` +
    `empty ${holding.length === 1 ? 'it' : 'them'} (TRUNCATE TABLE ${first.key}) or leave ${holding.length === 1 ? 'it' : 'them'} out of the import (add "!${first.schema}.${first.name}" to [mydumper] filter), then run again`
  );
}

function namedList(keys: string[]): string {
  const named = keys.slice(0, tablesNamed).join(', ');
  return keys.length > tablesNamed ? `${named} and ${keys.length - tablesNamed} more tables` : named;
}
