import type { Pool, RowDataPacket } from 'mysql2/promise';
import { createTargetPool, textOf } from '../../activities/database/connection';
import { cannotHealReason } from '../../activities/database/target-errors';
import type { SourcePlan } from '../../activities/task-types';
import type { Config } from '../config/schema';
import { targetSettingsOf } from '../task-settings';
import { missingPrivileges, type Grant } from './privileges';
import { checkpointTableKeys } from './checkpoint';
import { checkTargetTables } from './target-tables';

/** What the import does in the schemas it writes: create the tables, load and verify rows, add indexes back. */
const targetPrivileges = ['SELECT', 'INSERT', 'CREATE', 'ALTER'];
/** What it does in the task-info schema: its progress and error tables are created, written and cleaned up. */
const taskInfoPrivileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE'];

/**
 * The target answers and takes the login, the tables the plan writes hold no rows, and (with
 * check-requirements) the user may create and write them: a few round trips, whatever the number of tables.
 */
export async function checkTarget(config: Config, plan: Promise<SourcePlan | undefined>): Promise<string[]> {
  const { host, port } = config.tidb;
  const pool = createTargetPool(targetSettingsOf(config), 1);
  try {
    let grants: Grant[];
    try {
      grants = await readGrants(pool);
    } catch (error) {
      return [refusalMessage(error, `${host}:${port}`)];
    }
    const source = await plan;
    if (!source) return [];
    const problems: string[] = [];
    const tables = await checkTargetTables(pool, source, config.mydumper['no-schema'], await checkpointTableKeys(config));
    if (tables) problems.push(tables);
    if (!config.lightning['check-requirements'] || grants.length === 0) return problems;
    const needs = new Map<string, string[]>();
    const writes = config['tikv-importer']['on-duplicate'] === 'replace' || config.conflict.strategy === 'replace' ? [...targetPrivileges, 'UPDATE'] : targetPrivileges;
    for (const database of source.databases) needs.set(database.name, writes);
    needs.set(config.lightning['task-info-schema-name'], taskInfoPrivileges);
    const missing = missingPrivileges(grants, needs);
    if (missing.size === 0 || (await holdsRoles(pool))) return problems;
    const user = textOf((await pool.query<RowDataPacket[]>('SELECT CURRENT_USER() AS user'))[0][0].user);
    const lacks = [...missing].map(([schema, privileges]) => `${privileges.join(', ')} on \`${schema}\``).join('; ');
    const grant = [...missing].map(([schema, privileges]) => `GRANT ${privileges.join(', ')} ON \`${schema.replace(/`/g, '``')}\`.* TO ${user}`).join('; ');
    return [...problems, `the target user ${user} lacks ${lacks}: grant them (${grant}), or import as another [tidb] user`];
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The current user's global, schema and table grants; connecting is the first check. */
async function readGrants(pool: Pool): Promise<Grant[]> {
  const grantee = `CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')`;
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT 'global' AS level, '' AS schema_name, PRIVILEGE_TYPE AS privilege FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee}
     UNION ALL SELECT 'schema', TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee}
     UNION ALL SELECT 'table', TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ${grantee}`,
  );
  return rows.map((row) => ({ level: textOf(row.level) as Grant['level'], schema: textOf(row.schema_name), privilege: textOf(row.privilege) }));
}

/** Privileges that come through roles are not listed per user: a user with roles is given the benefit of the doubt. */
async function holdsRoles(pool: Pool): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>('SHOW GRANTS');
  return rows.some((row) => /^GRANT\s+[`'"][^`'"]+[`'"](?:@\S+)?\s*(,\s*[`'"][^`'"]+[`'"](?:@\S+)?\s*)*TO\s/i.test(textOf(Object.values(row)[0])));
}

function refusalMessage(error: unknown, where: string): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (cannotHealReason(error)) {
    return `the target ${where} refused the login: ${(error as Error).message}: fix [tidb] user and password (--tidb-user, --tidb-password)`;
  }
  if (!code.startsWith('ER_')) {
    return `the target ${where} does not answer (${code || (error as Error).message}): check that it runs and [tidb] host and port (--tidb-host, --tidb-port)`;
  }
  return `the target ${where} cannot be used: ${code}: ${(error as Error).message}`;
}
