import { describeStatus, isFailedStatus } from '../../workflows/checkpoint-status';
import type { TaskState } from '../../workflows/definitions';

/** A word safe to paste into a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * For each failed table: what went wrong (file and offset included) and the exact `tempest ctl`
 * commands that resume it or import it again. `selector` is the flags that name this task.
 */
export function printFailedTables(state: TaskState, selector: string, out: (line: string) => void): number {
  const failed = state.tables.filter((table) => isFailedStatus(table.status) && !table.removed);
  for (const table of failed) {
    out(`${table.key}: ${describeStatus(table.status)}: ${table.failure?.message ?? 'failed'}`);
    const flag = (name: string) => `tempest ctl ${selector} --${name}=${shellQuote(table.key)}`;
    out(`  to resume it from where it stopped (after fixing the cause): ${flag('checkpoint-error-ignore')}`);
    out(`  to drop it and import it again from scratch:                ${flag('checkpoint-error-destroy')}`);
  }
  if (failed.length > 1) out(`  (or name all failed tables at once: --checkpoint-error-ignore=all / --checkpoint-error-destroy=all)`);
  return failed.length;
}

/** The flags a command was given that name its task (config, source, target, Temporal), never a secret. */
export function taskSelector(flags: { config?: string; dataSourceDir?: string; filter?: string[]; tidbHost?: string; tidbPort?: number; temporalAddress?: string }): string {
  const words: string[] = [];
  if (flags.config) words.push('-c', flags.config);
  if (flags.dataSourceDir) words.push('-d', flags.dataSourceDir);
  for (const rule of flags.filter ?? []) words.push('-f', rule);
  if (flags.tidbHost) words.push('--tidb-host', flags.tidbHost);
  if (flags.tidbPort) words.push('--tidb-port', String(flags.tidbPort));
  if (flags.temporalAddress) words.push('--temporal-address', flags.temporalAddress);
  return words.map(shellQuote).join(' ');
}
