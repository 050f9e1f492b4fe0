import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../client/config/load';
import { taskSettingsOf } from '../../client/task-settings';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-temporal-settings-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function load(temporal: string) {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.toml`);
  fs.writeFileSync(file, `[mydumper]\ndata-source-dir = "/d"\n[temporal]\n${temporal}\n`);
  return loadConfig(file);
}

test('[temporal] give-up-after reaches the task settings; unset, the task retries forever', () => {
  assert.equal(taskSettingsOf(load('give-up-after = "30m"')).giveUpAfter, '30m');
  assert.equal(taskSettingsOf(load('')).giveUpAfter, undefined);
  assert.equal(taskSettingsOf(load('give-up-after = ""')).giveUpAfter, undefined);
  assert.throws(() => load('give-up-after = "soon"'), /\[temporal\] give-up-after: .*write a duration such as "30m"/);
});

test('[temporal] web-ui must be an address', () => {
  assert.equal(load('address = "temporal:7233"\nweb-ui = "https://temporal.example.com"').temporal['web-ui'], 'https://temporal.example.com');
  assert.throws(() => load('web-ui = "temporal ui"'), /\[temporal\] web-ui: .*Web UI's address/);
});
