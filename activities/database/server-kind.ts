import type { Pool, RowDataPacket } from 'mysql2/promise';
import { textOf } from './connection';

/** The servers Tempest writes to. They share the protocol and most SQL, not every statement's meaning. */
export type ServerKind = 'mariadb' | 'tidb' | 'mysql';

/** The kind a server's `VERSION()` names: TiDB says `8.0.11-TiDB-v…`, MariaDB `10.11.6-MariaDB-…`. */
export function serverKindOfVersion(version: string): ServerKind {
  if (/tidb/i.test(version)) return 'tidb';
  if (/mariadb/i.test(version)) return 'mariadb';
  return 'mysql';
}

/** The kind of a pool's server, asked once per pool (a worker's), not once per chunk or table. */
export function serverKindOf(pool: Pool): Promise<ServerKind> {
  let kind = serverKinds.get(pool);
  if (!kind) {
    kind = pool.query<RowDataPacket[]>('SELECT VERSION() AS version').then(([rows]) => serverKindOfVersion(textOf(rows[0].version)));
    // A failed look is not remembered: the next caller asks again.
    kind.catch(() => serverKinds.delete(pool));
    serverKinds.set(pool, kind);
  }
  return kind;
}

const serverKinds = new WeakMap<Pool, Promise<ServerKind>>();
