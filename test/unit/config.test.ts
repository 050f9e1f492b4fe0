import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../client/config/load';
import { taskSettingsOf } from '../../client/task-settings';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-config-'));
const main = path.resolve(__dirname, '../../client/main.js');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function configFile(text: string): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.toml`);
  fs.writeFileSync(file, text);
  return file;
}

test('a pasted tidb-lightning.toml loads with Lightning names, sizes and defaults', () => {
  const config = loadConfig(
    configFile(`
[lightning]
region-concurrency = 4
max-error = 5
[tikv-importer]
backend = "tidb"
on-duplicate = "ignore"
logical-import-batch-size = "96KiB"
[mydumper]
data-source-dir = "/data/dump"
max-region-size = "1.5GiB"
[mydumper.csv]
null = ['\\N', 'NULL']
[tidb]
host = "db.example"
port = 3307
password = "s3cret"
[post-restore]
checksum = false
`),
  );
  assert.equal(config.lightning['region-concurrency'], 4);
  assert.equal(config.lightning['table-concurrency'], 6);
  assert.equal(config['tikv-importer']['logical-import-batch-size'], 96 * 1024);
  assert.equal(config.mydumper['max-region-size'], Math.round(1.5 * 1024 ** 3));
  assert.deepEqual(config.mydumper.csv.null, ['\\N', 'NULL']);
  assert.equal(config['post-restore'].checksum, 'off', 'a boolean level, as Lightning accepts');
  assert.equal(config.mydumper.csv.separator, ',');
  const settings = taskSettingsOf(config);
  assert.equal(settings.onDuplicate, 'ignore');
  assert.equal(JSON.stringify(settings).includes('s3cret'), false, 'the settings given to Temporal hold no password');
});

test('unknown keys and wrong types are errors naming the key', () => {
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tidb]\nprot = 4000\n')), /unknown key \[tidb\] prot/);
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[lightning]\nregion-concurrency = "four"\n')), /\[lightning\] region-concurrency: expected number/);
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[widgets]\na = 1\n')), /unknown key \[widgets\]/);
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\nmax-region-size = "lots"\n')), /\[mydumper\] max-region-size: "lots" is not a size/);
  assert.throws(() => loadConfig(configFile('[tidb]\nport = 3306\n')), /\[mydumper\]/, 'the source directory is required');
});

test('[tikv-importer] add-index-by-sql defers secondary indexes unless set to false; it must be a boolean', () => {
  const byDefault = taskSettingsOf(loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n')));
  assert.equal(byDefault.deferIndexes, true, 'on by default, unlike Lightning (whose key is for its physical mode)');
  const off = taskSettingsOf(loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tikv-importer]\nadd-index-by-sql = false\n')));
  assert.equal(off.deferIndexes, false);
  assert.throws(
    () => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tikv-importer]\nadd-index-by-sql = "yes"\n')),
    /\[tikv-importer\] add-index-by-sql: expected boolean/,
  );
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tikv-importer]\nadd-indexes-by-sql = false\n')), /unknown key \[tikv-importer\] add-indexes-by-sql/);
});

test('a TOML syntax error names the line; the local backend is refused with what to set', () => {
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tidb\nport = 1\n')), /line 3/);
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tikv-importer]\nbackend = "local"\n')), /Set backend = "tidb"/);
});

test('command-line flags override the file', () => {
  const config = loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tidb]\nport = 3306\n'), { tidbPort: 4000, filter: ['db.*'], sourceDir: '/other', checksum: 'optional' });
  assert.equal(config.tidb.port, 4000);
  assert.deepEqual(config.mydumper.filter, ['db.*']);
  assert.equal(config.mydumper['data-source-dir'], '/other');
  assert.equal(config['post-restore'].checksum, 'optional');
});

test('the tempest command reports a bad config in one line and exit code 2, without a stack trace', async () => {
  const file = configFile('[mydumper]\ndata-source-dir = "/d"\n[tidb]\nprot = 4000\n');
  const failure = await promisify(execFile)(process.execPath, [main, 'import', '-c', file]).then(
    () => assert.fail('it should fail'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failure.code, 2);
  assert.match(failure.stderr, /^tempest: .*unknown key \[tidb\] prot/);
  assert.doesNotMatch(failure.stderr, /\n\s+at /, 'no stack trace');
});

const everyKey = path.resolve(__dirname, '../../../test/fixtures/lightning-config/every-key.toml');

test('a tidb-lightning.toml with every key Lightning documents loads; its own keys are named once as not used', () => {
  const warnings: string[] = [];
  const config = loadConfig(everyKey, {}, (line) => warnings.push(line));
  assert.equal(warnings.length, 1, 'one warning line');
  assert.match(warnings[0], /not used by a logical import/);
  for (const key of ['[lightning] status-addr', '[tidb] status-port', '[tidb] pd-addr', '[tikv-importer] sorted-kv-dir', '[cron] switch-mode', '[security] redact-info-log', '[lightning.max-error] charset']) {
    assert.ok(warnings[0].includes(key), `${key} is named`);
  }
  assert.doesNotMatch(warnings[0], /region-concurrency|data-source-dir|logical-import-batch-rows/, 'keys Tempest applies are not named');

  assert.equal(config.lightning['region-concurrency'], 5);
  assert.equal(config.lightning['max-error'], 7, "Lightning's table form of max-error");
  assert.equal(config.lightning['task-info-schema-name'], 'fixture_task_info');
  assert.equal(config['tikv-importer']['logical-import-batch-size'], 128 * 1024);
  assert.equal(config['tikv-importer']['add-index-by-sql'], false);
  assert.equal(config.mydumper['max-region-size'], 128 * 1024 * 1024);
  assert.equal(config.mydumper.csv.separator, '|');
  assert.equal(config.tidb.host, 'tidb.fixture');
  assert.equal(config.tidb.security['ca-path'], '/etc/fixture/tidb-ca.pem', '[tidb.security] wins over [security] for the target');
  assert.equal(config['post-restore'].checksum, 'optional');
  assert.equal(config.routes[0]['target-table'], 'orders');
  const exact = new RegExp(config.mydumper.files[1].pattern);
  assert.ok(exact.test('extra/orders-part.csv') && !exact.test('extra/orders-partXcsv') && !exact.test('more/extra/orders-part.csv'), 'a path rule matches that one file');
  const settings = taskSettingsOf(config);
  assert.equal(settings.onDuplicate, 'replace', '[conflict] strategy wins over on-duplicate');
  assert.equal(JSON.stringify(settings).includes('fixture-secret'), false);
});

test("[security] is the target's TLS when [tidb.security] is not given", () => {
  const config = loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[security]\nca-path = "/ca.pem"\nkey-path = "/k.pem"\n'));
  assert.equal(config.tidb.security['ca-path'], '/ca.pem');
  assert.equal(config.tidb.security['key-path'], '/k.pem');
});

test("a typo is still an error next to Lightning's own keys; keys that would change the rows are refused, not ignored", () => {
  const warnings: string[] = [];
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[tidb]\nstatus-port = 10080\nstatus-prot = 1\n'), {}, (line) => warnings.push(line)), /unknown key \[tidb\] status-prot/);
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[lightning]\nstatus-adr = ":1"\n')), /unknown key \[lightning\] status-adr/);
  assert.throws(
    () => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[[mydumper.ignore-data-columns]]\ndb = "a"\ntable = "b"\ncolumns = ["c"]\n')),
    /ignore-data-columns.*not supported by Tempest yet/,
  );
  assert.throws(
    () => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[[routes]]\nschema-pattern = "a"\ntarget-schema = "b"\n[routes.extract-table]\ntable-regexp = "t_(.*)"\ntarget-column = "c"\n')),
    /extract-table.*not supported by Tempest yet/,
  );
  assert.throws(() => loadConfig(configFile('[mydumper]\ndata-source-dir = "/d"\n[[mydumper.files]]\ntype = "csv"\n')), /either pattern .* or path/);
});

test('[tidb] max-allowed-packet keeps batches to a quarter of it (an INSERT is at most about twice its rows, escaped)', () => {
  const settingsOf = (text: string) => taskSettingsOf(loadConfig(configFile(`[mydumper]\ndata-source-dir = "/d"\n${text}`)));
  assert.equal(settingsOf('').batchBytes, undefined, 'the default 64 MiB packet leaves the default batch sizes');
  assert.equal(settingsOf('[tidb]\nmax-allowed-packet = "1MiB"\n').batchBytes, 256 * 1024, 'below the 1 MiB INSERT default');
  assert.equal(settingsOf('[tidb]\nmax-allowed-packet = "2MiB"\n[tikv-importer]\nlogical-import-batch-size = "96KiB"\n').batchBytes, 96 * 1024, 'a smaller batch size set stays');
  assert.equal(settingsOf('[tidb]\nmax-allowed-packet = "2MiB"\n[tikv-importer]\nlogical-import-batch-size = "16MiB"\n').batchBytes, 512 * 1024, 'a larger one is cut to fit');
});
