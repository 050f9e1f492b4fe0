import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryingLine } from '../../client/progress/retry-line';

const target = { host: '127.0.0.1', port: 4000 };

test('a target that refuses connections reads as unreachable, with the code and the attempt', () => {
  assert.equal(retryingLine('importChunk', 6, 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4000', target), 'target 127.0.0.1:4000 unreachable: ECONNREFUSED, retrying, attempt 6');
});

test('a connection cut in the middle reads as lost', () => {
  assert.equal(retryingLine('importChunk', 2, 'PROTOCOL_CONNECTION_LOST: Connection lost: The server closed the connection.', target), 'connection to target 127.0.0.1:4000 lost: PROTOCOL_CONNECTION_LOST, retrying, attempt 2');
});

test('any other failure keeps its first line, cut to fit a terminal, behind the activity', () => {
  const line = retryingLine('verifyTable', 3, `ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded; try restarting transaction ${'x'.repeat(300)}\nsecond line`, target);
  assert.match(line, /^verifyTable: ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded; try restarting transaction x+…, retrying, attempt 3$/);
  assert.ok(!line.includes('second line'));
  assert.ok(line.length < 220, `one line: ${line.length} characters`);
});
