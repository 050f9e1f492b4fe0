import fs from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { planSource } from '../../activities/source/plan-source';
import type { SourcePlan } from '../../activities/task-types';
import type { Config } from '../config/schema';
import { taskSettingsOf } from '../task-settings';

export interface SourceCheck {
  problem?: string;
  /** What the task would import, when the folder could be read. */
  plan?: SourcePlan;
}

/**
 * The source folder exists, can be read, and (with check-requirements) holds something to import
 * after `filter`: its file rules and routes are checked on the way, as the task would apply them.
 */
export async function checkSource(config: Config): Promise<SourceCheck> {
  const dir = config.mydumper['data-source-dir'];
  const stat = await fs.stat(dir).catch((error: NodeJS.ErrnoException) => error);
  if (stat instanceof Error) {
    const why = stat.code === 'ENOENT' ? 'does not exist' : `cannot be read (${stat.code ?? stat.message})`;
    return { problem: `[mydumper] data-source-dir: ${dir} ${why}: point it (or -d) at the folder of the dump` };
  }
  if (!stat.isDirectory()) return { problem: `[mydumper] data-source-dir: ${dir} is a file, not a folder: point it (or -d) at the folder of the dump` };
  let plan: SourcePlan;
  try {
    plan = await planSource({ ...taskSettingsOf(config), taskId: '' });
  } catch (error) {
    if (error instanceof ApplicationFailure) return { problem: error.message };
    throw error;
  }
  if (config.lightning['check-requirements'] && plan.tables.length === 0 && plan.views.length === 0) {
    return {
      problem:
        `nothing to import in ${dir}: it holds no Dumpling/mydumper data or schema file ({db}.{table}.sql, .csv or .parquet, {db}.{table}-schema.sql) ` +
        'that [mydumper] filter lets through: check [mydumper] data-source-dir (-d), filter (-f) and [[mydumper.files]]',
      plan,
    };
  }
  return { plan };
}
