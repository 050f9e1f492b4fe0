/**
 * The fuzz campaigns of the readers (test/fuzz), bounded: fixed seeds and budgets, so every run
 * checks the same inputs (or the first of them, on a slow machine: each campaign also stops after
 * a few seconds). `bench/fuzz-readers.ts` runs the same campaigns for longer.
 *
 * Round trips: random rows written as SQL or CSV (random options) read back value by value, whole,
 * in small buffers and as two chunks. Mutations: the fixture dump's files, Parquet files and
 * compressed files, and generated ones, damaged (bytes flipped, cut, spliced, quotes, escapes and
 * terminators inserted) must read or fail with the reader's typed error naming the file and a
 * position inside the input; never another exception, a hang (5 s an input) or a heap past 256 MiB.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CampaignName } from '../fuzz/campaigns';
import { runCampaign } from '../fuzz/run-campaign';

const BUDGETS: Array<[CampaignName, number, number]> = [
  ['sql-roundtrip', 1, 1000],
  ['csv-roundtrip', 2, 1500],
  ['sql-mutation', 3, 2000],
  ['csv-mutation', 4, 2000],
  ['parquet-mutation', 5, 1500],
  ['gzip-mutation', 6, 1000],
  ['zstd-mutation', 7, 1000],
  ['snappy-mutation', 8, 1000],
];

for (const [campaign, seed, maxInputs] of BUDGETS) {
  test(`fuzz ${campaign}: up to ${maxInputs} inputs, seed ${seed}`, async (t) => {
    const report = await runCampaign(campaign, { seed, maxInputs, maxMs: 2500 });
    assert.deepEqual(report.failures, [], `${report.failures.length} failing input(s)`);
    assert.ok(report.inputs > 0, 'inputs ran');
    t.diagnostic(`${report.inputs} inputs in ${report.durationMs} ms: ${JSON.stringify(report.kinds)}`);
  });
}
