/**
 * SQL text for the target, in "byte string" form: every JS character is one byte (latin1), because
 * the target connections use the `binary` character set so that string values reach the server
 * byte for byte, whatever their encoding. Names and other text must therefore pass through
 * `bytesOf` (UTF-8 encoding) before they are placed in a statement.
 */

/** The UTF-8 bytes of `text`, as a byte string. */
export function bytesOf(text: string): string {
  // ASCII text is already its own byte string.
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** `name` as a quoted identifier (backquotes doubled), as a byte string. */
export function quoteName(name: string): string {
  return bytesOf('`' + name.replace(/`/g, '``') + '`');
}

/** `db`.`table` as a byte string. */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteName(schema)}.${quoteName(table)}`;
}

/** Lightning's table key: `db`.`table`, backquotes doubled (LIGHTNING-COMPAT.md §3). A plain JS string. */
export function tableKey(schema: string, table: string): string {
  return '`' + schema.replace(/`/g, '``') + '`.`' + table.replace(/`/g, '``') + '`';
}

const needsEscape = /[\x00\n\r\\'\x1a]/;
const escapes: Record<string, string> = { '\x00': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '\x1a': '\\Z' };

/** A quoted string literal holding exactly `bytes`, as a byte string. */
export function quoteBytes(bytes: Buffer): string {
  const raw = bytes.toString('latin1');
  return needsEscape.test(raw) ? `'${raw.replace(/[\x00\n\r\\'\x1a]/g, (char) => escapes[char])}'` : `'${raw}'`;
}

/** A quoted string literal of UTF-8 text, as a byte string. */
export function quoteText(text: string): string {
  return quoteBytes(Buffer.from(text, 'utf8'));
}
