import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingPrivileges, type Grant } from '../../client/prechecks/privileges';

const needs = new Map([
  ['shop', ['SELECT', 'INSERT', 'CREATE', 'ALTER']],
  ['lightning_task_info', ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE']],
]);

test('global ALL PRIVILEGES covers every schema', () => {
  assert.deepEqual([...missingPrivileges([{ level: 'global', schema: '', privilege: 'ALL PRIVILEGES' }], needs)], []);
});

test('a user with schema grants lacks what they leave out, schema by schema', () => {
  const grants: Grant[] = [
    { level: 'global', schema: '', privilege: 'USAGE' },
    { level: 'schema', schema: 'shop', privilege: 'SELECT' },
    { level: 'schema', schema: 'shop', privilege: 'INSERT' },
    { level: 'schema', schema: 'lightning\\_task\\_%', privilege: 'ALL PRIVILEGES' },
  ];
  assert.deepEqual([...missingPrivileges(grants, needs)], [['shop', ['CREATE', 'ALTER']]]);
});

test('schema grant names match as LIKE patterns: _ is one character unless escaped', () => {
  const grants: Grant[] = [{ level: 'schema', schema: 'sho_', privilege: 'ALL PRIVILEGES' }, { level: 'schema', schema: 'lightning\\_task\\_info', privilege: 'ALL PRIVILEGES' }];
  assert.deepEqual([...missingPrivileges(grants, needs)], []);
  const escaped: Grant[] = [{ level: 'schema', schema: 'lightning\\_task\\_infx', privilege: 'ALL PRIVILEGES' }];
  assert.deepEqual([...missingPrivileges(escaped, new Map([['lightning_task_info', ['SELECT']]]))], [['lightning_task_info', ['SELECT']]]);
});

test('a schema with table grants is not judged', () => {
  assert.deepEqual([...missingPrivileges([{ level: 'table', schema: 'shop', privilege: 'INSERT' }], new Map([['shop', ['CREATE']]]))], []);
});
