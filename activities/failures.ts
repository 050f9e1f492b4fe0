import { ApplicationFailure } from '@temporalio/common';
import { cannotHealReason, withoutValues } from './database/target-errors';

/**
 * Failure types an operator must act on: retrying would fail the same way.
 * The workflow reads `type` to decide the table's failed status.
 */
export type NonRetryableType =
  | 'ConfigError'
  | 'SourceFormatError'
  | 'SourceChangedError'
  | 'TargetChangedError'
  | 'DataError'
  | 'SchemaError'
  | 'PrecheckError'
  | 'VerificationError'
  | 'TargetError';

/**
 * A failure that stops retries. Its message reaches Temporal's history and the Web UI,
 * so callers put names, files and offsets in it, never a password or row data.
 */
export function nonRetryable(type: NonRetryableType, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : undefined });
}

/**
 * Conditions that pass: the target restarting, a dropped connection, lock contention. A refused
 * login or privilege is not one of them: it needs a person, and retrying it would only hide it.
 */
const transientCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_QUERY_INTERRUPTED', 'ER_NET_READ_INTERRUPTED',
]);

/** A passing condition, or no server's answer at all (the connection, the network): worth retrying. */
export function isTransient(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  return transientCodes.has(code) || !code.startsWith('ER_');
}

/**
 * What an activity may let out: failures we built pass as they are; anything else loses the
 * statement text and echoed values a driver error carries (row data must not reach history or
 * logs), and becomes non-retryable unless it is a passing condition.
 */
export function toActivityFailure(error: unknown): Error {
  if (error instanceof ApplicationFailure) return error;
  if (!(error instanceof Error)) return new Error(String(error));
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = withoutValues(error.message).replace(/ near '[\s\S]*' at line \d+/, ' (statement not shown)');
  if (isTransient(error)) {
    const clean = new Error(code && !message.includes(code) ? `${code}: ${message}` : message);
    clean.name = error.name === 'Error' ? 'TransientError' : error.name;
    return clean;
  }
  const reason = cannotHealReason(error);
  if (reason) return nonRetryable('TargetError', `${reason.what}: ${code}: ${message}. ${reason.remedy}`);
  return nonRetryable('TargetError', `the target refused a statement: ${code}: ${message}`);
}
