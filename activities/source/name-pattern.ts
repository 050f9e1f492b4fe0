/**
 * Lightning's wildcard patterns for schema and table names (`filter`, `[[routes]]`):
 * `*` any run of characters, `?` one character, `[a-z]` / `[!a-z]` a class, `\x` a literal x.
 */
export function wildcardToRegExp(pattern: string, caseSensitive: boolean): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, caseSensitive ? 'su' : 'isu');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Splits `db.table` at the first dot that is not inside backquotes or double quotes, unquoting both parts. */
export function splitQualifiedPattern(pattern: string): [string, string] | undefined {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (quote) {
      if (char === quote && pattern[i + 1] === quote) {
        current += quote;
        i++;
      } else if (char === quote) quote = undefined;
      else current += char === '*' || char === '?' || char === '[' || char === '\\' ? '\\' + char : char;
    } else if (char === '`' || char === '"') quote = char;
    else if (char === '.' && parts.length === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? [parts[0], parts[1]] : undefined;
}
