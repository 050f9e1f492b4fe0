/**
 * A fuzz campaign's worker thread: builds the seed corpus, then runs inputs until the budget is
 * spent, reporting each input as it starts (so the main thread can name an input that hangs), each
 * failing input, and at the end the tally of outcomes and the largest heap seen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { campaigns } from './campaigns';
import { buildSeedCorpus } from './corpus';
import { Rng } from './random';
import type { CampaignJob, WorkerReport } from './run-campaign';

/** A campaign stops after this many failing inputs: the first ones say enough. */
const MAX_FAILURES = 5;

async function work(job: CampaignJob): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const send = (report: WorkerReport) => port.postMessage(report);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `tempest-fuzz-${job.campaign}-`));
  try {
    const corpus = await buildSeedCorpus(scratch);
    const { run } = campaigns[job.campaign];
    const kinds: Record<string, number> = {};
    let maxHeapBytes = 0;
    let failures = 0;
    let index = 0;
    const started = Date.now();
    send({ type: 'ready' });
    for (; index < job.maxInputs && Date.now() - started < job.maxMs && failures < MAX_FAILURES; index++) {
      send({ type: 'start', index });
      try {
        const kind = await run(new Rng(job.seed * 1_000_003 + index), corpus, scratch);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      } catch (error) {
        failures++;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        send({ type: 'fail', index, message: message.slice(0, 4000) });
      }
      if (index % 16 === 0) maxHeapBytes = Math.max(maxHeapBytes, v8.getHeapStatistics().used_heap_size);
    }
    send({ type: 'done', inputs: index, durationMs: Date.now() - started, kinds, maxHeapBytes });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

void work(workerData as CampaignJob);
