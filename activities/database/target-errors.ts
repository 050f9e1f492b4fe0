/** MySQL/MariaDB error numbers that mean "this data (or schema) is wrong": retrying cannot help. */
const dataErrors = new Set([
  1048, // column cannot be null
  1054, // unknown column
  1062, // duplicate entry
  1136, // column count does not match
  1264, // out of range
  1265, // data truncated
  1292, // incorrect (date, time, …) value
  1366, // incorrect value for column
  1406, // data too long
  1411, // incorrect value for function
  1452, // foreign key
  1690, // value out of range
  3140, // invalid JSON
  4025, // CHECK constraint failed
]);

const schemaErrors = new Set([
  1044, // access denied to database
  1142, // command denied
  1146, // table does not exist
  1049, // unknown database
]);

/**
 * Refusals that no retry can heal, with what the operator does about them: a login or privilege
 * refused, a database that does not exist, a schema the target does not accept.
 */
const cannotHeal: Array<{ errnos: ReadonlySet<number>; what: string; remedy: string }> = [
  {
    errnos: new Set([
      1044, // access denied to database
      1045, // access denied for user (login)
      1142, // command denied on a table
      1143, // column access denied
      1227, // needs a privilege such as SUPER
      1698, // access denied (no password / socket authentication)
    ]),
    what: 'the target refused access',
    remedy: 'Fix [tidb] user and password, or grant the user the privileges it needs, then run the same command again.',
  },
  {
    errnos: new Set([1049]), // unknown database
    what: 'a database does not exist in the target',
    remedy: 'Create it, or let the dump create it ([mydumper] no-schema = false), then run the same command again.',
  },
  {
    errnos: new Set([
      1064, // syntax error
      1067, // invalid default value
      1071, // key too long
      1074, // column too long
      1115, // unknown character set
      1118, // row size too large
      1273, // unknown collation
      1286, // unknown storage engine
    ]),
    what: 'the target rejects the schema',
    remedy: "Change the table's schema file in the dump (or create the table yourself with [mydumper] no-schema = true), then run the same command again.",
  },
];

/** What is wrong and what to do, when a target error is one retrying cannot heal; undefined otherwise. */
export function cannotHealReason(error: unknown): { what: string; remedy: string } | undefined {
  const errno = (error as { errno?: number }).errno ?? -1;
  return cannotHeal.find((kind) => kind.errnos.has(errno));
}

export function isDataError(error: unknown): boolean {
  return dataErrors.has((error as { errno?: number }).errno ?? -1);
}

export function isSchemaError(error: unknown): boolean {
  return schemaErrors.has((error as { errno?: number }).errno ?? -1);
}

/** The server's message without the quoted value it echoes: row data must not reach history or logs. */
export function withoutValues(message: string): string {
  return message.replace(/(Duplicate entry )'[\s\S]*?'(?= for key )/i, "$1'…'").replace(/'[\s\S]*'(?=\s+for\s+column\b)/i, "'…'");
}

/** "at row N" of a multi-row INSERT, 1-based; undefined when the message does not say. */
export function failedRowNumber(message: string): number | undefined {
  const match = /\bat row (\d+)/i.exec(message);
  return match ? Number(match[1]) : undefined;
}
