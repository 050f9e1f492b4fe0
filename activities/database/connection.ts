import fs from 'node:fs';
import mysql from 'mysql2/promise';
import type { Pool, PoolOptions } from 'mysql2/promise';
import { quoteText } from './sql-text';

/** How to reach the target. Lives only in the worker's memory: never in a workflow or activity input. */
export interface TargetSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  sqlMode: string;
  tls: '' | 'false' | 'skip-verify' | 'preferred' | 'cluster';
  caPath: string;
  certPath: string;
  keyPath: string;
  maxAllowedPacket: number;
}

/**
 * A pool of target connections in the `binary` character set (see sql-text.ts), with the session
 * settings every import statement relies on.
 */
export function createTargetPool(settings: TargetSettings, connectionLimit: number): Pool {
  const options: PoolOptions = {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    charset: 'BINARY',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: true,
    // An unchanged duplicate then reports 0 affected rows, which duplicatesIn relies on.
    flags: ['-FOUND_ROWS'],
    connectionLimit,
    maxIdle: connectionLimit,
    enableKeepAlive: true,
    connectTimeout: 10_000,
    ssl: sslOptions(settings),
    // Statements arrive complete (values quoted by sql-text.ts): skip the driver's scan of every
    // batch for `?` placeholders, measurable on megabyte batches.
    queryFormat: (sql: string) => sql,
  };
  const pool = mysql.createPool(options);
  pool.on('connection', (connection) => {
    // Queued before any statement of the borrower, so every statement sees these settings. That
    // leaves no time to ask the server what it is: each server's own settings sit in the comments
    // only it executes (`/*M!` MariaDB, `/*T!` TiDB; MySQL runs neither), so one statement fits all.
    connection.query(`SET SESSION sql_mode = ${quoteText(withoutNoBackslashEscapes(settings.sqlMode))}, time_zone = '+00:00', foreign_key_checks = 0${mariadbSession}${tidbSession}`);
  });
  return pool;
}

/** A server-wide statement time limit must not cut a checksum scan or an index build short. */
const mariadbSession = ' /*M!, max_statement_time = 0 */';

/**
 * TiDB: pessimistic transactions, whatever the server's default, because a chunk's transaction
 * locks the chunk's position with `SELECT … FOR UPDATE` before it writes: a stale attempt of the
 * same chunk must wait there and then see the new position, not write its batch and fail only at
 * COMMIT (Lightning's logical mode asks for optimistic ones; it keeps no position in the target).
 * Dumps carry the values of AUTO_RANDOM columns, which TiDB takes only when allowed, as Lightning
 * allows them. `max_execution_time` is TiDB's limit on SELECTs, verification's scans among them.
 */
const tidbSession = " /*T!, tidb_txn_mode = 'pessimistic', allow_auto_random_explicit_insert = 1, max_execution_time = 0 */";

/** Our literals escape with backslashes; NO_BACKSLASH_ESCAPES would corrupt them. */
function withoutNoBackslashEscapes(sqlMode: string): string {
  return sqlMode
    .split(',')
    .map((mode) => mode.trim())
    .filter((mode) => mode !== '' && mode.toUpperCase() !== 'NO_BACKSLASH_ESCAPES')
    .join(',');
}

function sslOptions(settings: TargetSettings): PoolOptions['ssl'] {
  switch (settings.tls) {
    case 'skip-verify':
      return { rejectUnauthorized: false };
    case 'cluster':
      return {
        ca: settings.caPath ? fs.readFileSync(settings.caPath) : undefined,
        cert: settings.certPath ? fs.readFileSync(settings.certPath) : undefined,
        key: settings.keyPath ? fs.readFileSync(settings.keyPath) : undefined,
      };
    default:
      return undefined;
  }
}

/** A text value from a `binary` connection's result (names, messages), decoded as UTF-8. */
export function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}
