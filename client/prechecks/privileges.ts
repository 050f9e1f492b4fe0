/** One row of the user's grants as information_schema lists them. */
export interface Grant {
  level: 'global' | 'schema' | 'table';
  /** The schema, or for schema grants a LIKE pattern of schemas (`db\_%`); empty for global grants. */
  schema: string;
  privilege: string;
}

/**
 * The privileges each schema lacks, schema by schema, from the user's global and schema grants.
 * A schema with table grants is left out: which tables those cover cannot be told before they exist.
 */
export function missingPrivileges(grants: readonly Grant[], needs: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const global = new Set(grants.filter((grant) => grant.level === 'global').map((grant) => grant.privilege.toUpperCase()));
  const missing = new Map<string, string[]>();
  for (const [schema, privileges] of needs) {
    if (grants.some((grant) => grant.level === 'table' && grant.schema.toLowerCase() === schema.toLowerCase())) continue;
    const onSchema = new Set(grants.filter((grant) => grant.level === 'schema' && likePattern(grant.schema).test(schema)).map((grant) => grant.privilege.toUpperCase()));
    const lacking = privileges.filter((privilege) => !global.has('ALL PRIVILEGES') && !global.has(privilege) && !onSchema.has('ALL PRIVILEGES') && !onSchema.has(privilege));
    if (lacking.length > 0) missing.set(schema, lacking);
  }
  return missing;
}

/** A schema-grant name as MySQL matches it: `_` one character, `%` any run, `\` escapes the next. */
function likePattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (char === '%') source += '.*';
    else if (char === '_') source += '.';
    else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 'isu');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
