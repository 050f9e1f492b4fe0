import type { Config } from '../config/schema';
import { exitCodes } from '../exit-codes';
import { UserError } from '../user-error';
import { checkCheckpointStore } from './checkpoint';
import { checkSource } from './source';
import { checkTarget } from './target';

/** Each failed check's message; empty when the import may start. */
export type PrecheckProblems = string[];

/**
 * The checks `tempest import` makes before it starts a task (README, "Prechecks"): the source,
 * the target, the checkpoint store, all at once, so they cost about one round trip to the target.
 * Temporal's is the connection the command makes meanwhile.
 */
export async function runPrechecks(config: Config): Promise<PrecheckProblems> {
  const source = checkSource(config);
  const [sourceProblem, targetProblems, checkpointProblem] = await Promise.all([
    source.then((check) => check.problem),
    checkTarget(
      config,
      source.then((check) => check.plan),
    ),
    checkCheckpointStore(config),
  ]);
  return [sourceProblem, ...targetProblems, checkpointProblem].filter((problem): problem is string => problem !== undefined);
}

/** The import did not start: every failed check, one line each. */
export class PrecheckFailedError extends UserError {
  constructor(readonly problems: PrecheckProblems) {
    super(`precheck failed, no task was started:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`, exitCodes.usage);
    this.name = 'PrecheckFailedError';
  }
}
