/** The numeric family of a column's DATA_TYPE (lower case), or `undefined` for any other type. */
export function numericFamilyOf(dataType: string): 'integer' | 'decimal' | 'approximate' | undefined {
  switch (dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
      return 'integer';
    case 'decimal':
    case 'numeric':
    case 'fixed':
      return 'decimal';
    case 'float':
    case 'double':
    case 'real':
      return 'approximate';
    default:
      return undefined;
  }
}
