/**
 * Runs a fuzz campaign in a worker thread, under a budget of inputs and time. An endless loop in
 * synchronous parsing code cannot be interrupted from its own thread: the worker reports each input
 * as it starts, and an input that does not finish within `inputTimeoutMs` ends the worker and the
 * campaign, naming the input. The worker's heap is capped, so an input that makes a reader hold
 * more than that ends the campaign too.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CampaignName } from './campaigns';

export interface CampaignBudget {
  /** Input i is made from seed × 1000003 + i: the same seed makes the same inputs. */
  seed: number;
  maxInputs: number;
  /** Time for inputs, not counting the seed corpus's building. */
  maxMs: number;
  inputTimeoutMs?: number;
  heapLimitMb?: number;
}

export interface CampaignJob extends CampaignBudget {
  campaign: CampaignName;
}

export type WorkerReport =
  | { type: 'ready' }
  | { type: 'start'; index: number }
  | { type: 'fail'; index: number; message: string }
  | { type: 'done'; inputs: number; durationMs: number; kinds: Record<string, number>; maxHeapBytes: number };

export interface CampaignReport {
  campaign: CampaignName;
  seed: number;
  inputs: number;
  durationMs: number;
  /** How many inputs came to each outcome: read, or an error's kind. */
  kinds: Record<string, number>;
  maxHeapBytes: number;
  /** Failing inputs, each with its index and what failed. */
  failures: string[];
}

const CORPUS_TIMEOUT_MS = 60_000;

export function runCampaign(campaign: CampaignName, budget: CampaignBudget): Promise<CampaignReport> {
  const { inputTimeoutMs = 5000, heapLimitMb = 256 } = budget;
  const job: CampaignJob = { ...budget, campaign };
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'campaign-worker.js'), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: heapLimitMb } });
    const failures: string[] = [];
    let current = -1;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const where = () => (current < 0 ? 'building the seed corpus' : `input ${current}`);
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      reject(new Error(`fuzz ${campaign}, seed ${budget.seed}: ${message}${failures.length > 0 ? `\n\n${failures.join('\n\n')}` : ''}`));
    };
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(`${where()} did not finish within ${ms} ms (a hang?)`), ms);
    };
    arm(CORPUS_TIMEOUT_MS);
    worker.on('message', (report: WorkerReport) => {
      if (report.type === 'ready') arm(inputTimeoutMs);
      else if (report.type === 'start') {
        current = report.index;
        arm(inputTimeoutMs);
      } else if (report.type === 'fail') failures.push(`input ${report.index}: ${report.message}`);
      else {
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        resolve({ campaign, seed: budget.seed, inputs: report.inputs, durationMs: report.durationMs, kinds: report.kinds, maxHeapBytes: report.maxHeapBytes, failures });
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      fail(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `${where()} took the heap past ${heapLimitMb} MiB` : `${where()}: ${error.stack ?? error.message}`);
    });
    worker.on('exit', (code) => fail(`the worker exited (code ${code}) at ${where()}`));
  });
}
