/**
 * The readers' fuzz campaigns (test/fuzz), run for longer than the test suite runs them:
 * `node dist/bench/fuzz-readers.js [seconds per campaign] [seed] [campaign …]`
 * (or FUZZ_SECONDS, FUZZ_SEED; defaults 60 s and seed 1; all campaigns unless named).
 *
 * Prints, per campaign, the inputs run, their outcomes by kind (read, or the error's kind) and the
 * largest heap seen, and every failing input with what failed. Exits 1 if any input failed or hung.
 */
import { campaigns, type CampaignName } from '../test/fuzz/campaigns';
import { runCampaign } from '../test/fuzz/run-campaign';

const [secondsArg, seedArg, ...named] = process.argv.slice(2);
const seconds = Number(secondsArg ?? process.env.FUZZ_SECONDS ?? 60);
const seed = Number(seedArg ?? process.env.FUZZ_SEED ?? 1);
const all = Object.keys(campaigns) as CampaignName[];
const chosen = named.length > 0 ? (named as CampaignName[]) : all;
for (const name of chosen) if (!all.includes(name)) throw new Error(`no campaign ${name}; the campaigns are ${all.join(', ')}`);

async function main(): Promise<number> {
  let failed = 0;
  console.log(`fuzzing ${chosen.length} campaign(s), ${seconds} s each, seed ${seed}`);
  for (const name of chosen) {
    try {
      const report = await runCampaign(name, { seed, maxInputs: Number.MAX_SAFE_INTEGER, maxMs: seconds * 1000 });
      const kinds = Object.entries(report.kinds).sort((a, b) => b[1] - a[1]);
      const shown = kinds.slice(0, 8).map(([kind, count]) => `${count} ${kind}`);
      if (kinds.length > 8) shown.push(`${kinds.slice(8).reduce((sum, [, count]) => sum + count, 0)} of ${kinds.length - 8} other kinds`);
      console.log(
        `${name} (${campaigns[name].reader}): ${report.inputs} inputs in ${(report.durationMs / 1000).toFixed(1)} s ` +
          `(${Math.round(report.inputs / (report.durationMs / 1000))}/s), max heap ${(report.maxHeapBytes / 1048576).toFixed(1)} MiB, ${report.failures.length} failing`,
      );
      console.log(`  outcomes: ${shown.join('; ')}`);
      for (const failure of report.failures) console.log(`  FAIL ${failure}`);
      if (report.failures.length > 0) failed++;
    } catch (error) {
      failed++;
      console.log(`${name}: FAIL ${(error as Error).message}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

void main().then((code) => process.exit(code));
