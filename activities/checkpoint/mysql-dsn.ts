/** Reads Lightning's MySQL checkpoint DSN, Go-driver style: `user:password@tcp(host:port)/`. */
export function parseMysqlDsn(dsn: string): { user: string; password: string; host: string; port: number } | undefined {
  const match = /^([^:@]*)(?::(.*))?@tcp\(([^:()]+)(?::(\d+))?\)\/?.*$/.exec(dsn);
  if (!match) return undefined;
  return { user: match[1], password: match[2] ?? '', host: match[3], port: match[4] ? Number(match[4]) : 3306 };
}
