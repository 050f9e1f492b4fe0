import { splitQualifiedPattern, wildcardToRegExp } from './name-pattern';
import { nonRetryable } from '../failures';

interface FilterRule {
  include: boolean;
  schema: RegExp;
  table: RegExp;
}

/**
 * Lightning's table filter (`[mydumper] filter`, `-f`): rules like `db*.tbl`, `!mysql.*`;
 * the last rule that matches a table decides, and a table no rule matches is left out.
 */
export function compileTableFilter(patterns: readonly string[], caseSensitive: boolean): (schema: string, table: string) => boolean {
  const rules: FilterRule[] = patterns.map((raw) => {
    const trimmed = raw.trim();
    const include = !trimmed.startsWith('!');
    const parts = splitQualifiedPattern(include ? trimmed : trimmed.slice(1));
    if (!parts) {
      throw nonRetryable('ConfigError', `[mydumper] filter: "${raw}" is not a table pattern; write it as schema.table, e.g. "shop.*" or "!mysql.*"`);
    }
    return { include, schema: wildcardToRegExp(parts[0], caseSensitive), table: wildcardToRegExp(parts[1], caseSensitive) };
  });
  return (schema, table) => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i];
      if (rule.schema.test(schema) && rule.table.test(table)) return rule.include;
    }
    return false;
  };
}
