import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../activities/failures';

/** An error as mysql2 raises it for a server's refusal, or for a connection that failed. */
function driverError(code: string, errno: number | undefined, message: string): Error {
  return Object.assign(new Error(message), { code, errno });
}

function assertNotRetried(failure: Error, pattern: RegExp): void {
  assert.ok(failure instanceof ApplicationFailure, `a failure Temporal does not retry: ${failure.name}`);
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, pattern);
}

test('access denied is not retried, and says what to fix', () => {
  const login = toActivityFailure(driverError('ER_ACCESS_DENIED_ERROR', 1045, "Access denied for user 'app'@'localhost' (using password: YES)"));
  assertNotRetried(login, /^the target refused access: ER_ACCESS_DENIED_ERROR: Access denied for user 'app'@'localhost'.*Fix \[tidb\] user and password/);
  assertNotRetried(toActivityFailure(driverError('ER_TABLEACCESS_DENIED_ERROR', 1142, "INSERT command denied to user 'app'@'localhost' for table `t`")), /refused access.*grant the user/);
});

test('an unknown database is not retried', () => {
  assertNotRetried(toActivityFailure(driverError('ER_BAD_DB_ERROR', 1049, "Unknown database 'shop'")), /^a database does not exist in the target: ER_BAD_DB_ERROR: Unknown database 'shop'/);
});

test('a schema the target rejects is not retried, and its statement is not repeated', () => {
  const failure = toActivityFailure(driverError('ER_PARSE_ERROR', 1064, "You have an error in your SQL syntax; check the manual near 'CREATE TABLE secret_values (x INT' at line 1"));
  assertNotRetried(failure, /^the target rejects the schema: ER_PARSE_ERROR: .*\(statement not shown\).*schema file/);
  assert.ok(!failure.message.includes('secret_values'));
  assertNotRetried(toActivityFailure(driverError('ER_UNKNOWN_STORAGE_ENGINE', 1286, "Unknown storage engine 'TokuDB'")), /rejects the schema/);
});

test('a target that is down, a cut connection and lock waits are retried', () => {
  for (const error of [
    driverError('ECONNREFUSED', undefined, 'connect ECONNREFUSED 127.0.0.1:4000'),
    driverError('PROTOCOL_CONNECTION_LOST', undefined, 'Connection lost: The server closed the connection.'),
    driverError('ER_LOCK_WAIT_TIMEOUT', 1205, 'Lock wait timeout exceeded; try restarting transaction'),
  ]) {
    const failure = toActivityFailure(error);
    assert.ok(!(failure instanceof ApplicationFailure && failure.nonRetryable), `${(error as NodeJS.ErrnoException).code} is retried`);
    assert.match(failure.message, new RegExp((error as NodeJS.ErrnoException).code!));
  }
});
