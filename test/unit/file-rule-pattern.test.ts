import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTemplate, compileGoPattern, expandTemplate } from '../../activities/source/file-rule-pattern';

const expand = (pattern: string, template: string, path: string) => {
  const compiled = compileGoPattern(pattern);
  checkTemplate(template, compiled);
  const match = compiled.regex.exec(path);
  assert.ok(match, `${pattern} matches ${path}`);
  return expandTemplate(template, match);
};

test("Lightning's documented Aurora Parquet rule: (?i), a group in type", () => {
  const pattern = '(?i)^(?:[^/]*/)*([a-z0-9_]+)\\.([a-z0-9_]+)/(?:[^/]*/)*(?:[a-z0-9\\-_.]+\\.(parquet))$';
  const path = 'export/Shop.Orders/1/part-00000-abc.C000.gz.PARQUET';
  assert.equal(expand(pattern, '$1', path), 'Shop');
  assert.equal(expand(pattern, '$2', path), 'Orders');
  assert.equal(expand(pattern, '$3', path), 'PARQUET');
});

test('templates as Go reads them: ${1}, named groups $name / ${name}, $$, and $1x naming group "1x"', () => {
  assert.equal(expand('^(?P<db>\\w+)\\.(\\w+)\\.csv$', '${db}_x', 'a.b.csv'), 'a_x');
  assert.equal(expand('^(?P<db>\\w+)\\.(\\w+)\\.csv$', '$db.${2}x', 'a.b.csv'), 'a.bx');
  assert.equal(expand('^(\\w+)\\.csv$', 'cost$$1', 'a.csv'), 'cost$1');
  assert.throws(() => checkTemplate('$1x', compileGoPattern('^(\\w+)$')), /refers to group 1x.*write \$\{1\}x/);
  assert.throws(() => checkTemplate('$2', compileGoPattern('^(\\w+)$')), /refers to group 2, which the pattern does not have/);
  assert.throws(() => checkTemplate('$name', compileGoPattern('^(\\w+)$')), /refers to group name/);
  assert.throws(() => checkTemplate('a$', compileGoPattern('^(\\w+)$')), /names no group: write \$\$ for a dollar sign/);
});

test('an optional group that matched nothing expands to an empty string', () => {
  assert.equal(expand('^(\\w+)(?:\\.(\\d+))?\\.sql$', '[$2]', 'a.sql'), '[]');
});

test('\\A and \\z anchor the whole text, even under (?m); POSIX classes; ] first in a class', () => {
  const anchored = compileGoPattern('(?m)\\Aa\\z').regex;
  assert.ok(anchored.test('a'));
  assert.ok(!anchored.test('b\na'), '\\A is not a line start');
  assert.ok(!anchored.test('a\nb'), '\\z is not a line end');
  assert.ok(!compileGoPattern('^\\z').regex.test('z'), '\\z is no letter z');
  assert.ok(compileGoPattern('^[[:digit:][:upper:]_]+$').regex.test('A_1'));
  assert.ok(!compileGoPattern('^[[:digit:]]+$').regex.test(':'), 'a POSIX class is not a set of its letters');
  assert.ok(compileGoPattern('^[]a]+$').regex.test(']a]'));
  assert.ok(compileGoPattern('^[^]a]+$').regex.test('bc'));
  assert.ok(!compileGoPattern('^[^]a]+$').regex.test(']'));
});

test('Go syntax JavaScript cannot express is refused with what to write instead', () => {
  assert.throws(() => compileGoPattern('(?U)a+'), /ungreedy flag/);
  assert.throws(() => compileGoPattern('^data/(?i)x'), /inline flags are only supported at the very start/);
  assert.throws(() => compileGoPattern('[[:^digit:]]'), /not supported here/);
});
