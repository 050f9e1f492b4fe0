import type { ApplicationFailure } from '@temporalio/common';
import { nonRetryable } from '../failures';

/**
 * MariaDB and MySQL keep names in utf8mb3: a name with a character outside the Basic Multilingual
 * Plane (an emoji) cannot exist there, and the first statement naming it fails with "Invalid utf8mb3
 * character string", which says nothing of the table. This says which table, and what to do.
 */
export function unstorableNameFailure(error: unknown, tableKey: string, schemaFile: string | undefined): ApplicationFailure | undefined {
  if ((error as { code?: string }).code !== 'ER_INVALID_CHARACTER_STRING') return undefined;
  const from = schemaFile ? ` (schema file ${schemaFile})` : '';
  return nonRetryable(
    'SchemaError',
    `${tableKey}${from}: the target cannot hold this name (${(error as Error).message}): its names take only characters of the Basic Multilingual Plane, no emoji. ` +
      'Give the table another name with a [[routes]] rule (target-schema, target-table), or leave it out with [mydumper] filter, then run again.',
    { table: tableKey },
  );
}
