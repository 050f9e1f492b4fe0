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
