import { describeStatus } from '../../workflows/checkpoint-status';
import type { FailedTable } from '../../workflows/definitions';

/** A word safe to paste into a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A failure's message without the table's name in front (the line names it already). */
export function withoutTableName(key: string, message: string): string {
  return message.startsWith(`${key}: `) ? message.slice(key.length + 2) : message;
}

/**
 * For each failed table: what went wrong (file and offset included) and the exact `tempest ctl`
 * commands that resume it or import it again. `selector` is the flags that name this task;
 * `failedCount` counts them all when `failed` lists only the first.
 */
export function printFailedTables(failed: readonly FailedTable[], failedCount: number, selector: string, out: (line: string) => void): number {
  for (const table of failed) {
    out(`${table.key}: ${describeStatus(table.status)}: ${withoutTableName(table.key, table.failure?.message ?? 'failed')}`);
    const flag = (name: string) => `tempest ctl ${selector} --${name}=${shellQuote(table.key)}`;
    out(`  to resume it from where it stopped (after fixing the cause): ${flag('checkpoint-error-ignore')}`);
    out(`  to drop it and import it again from scratch:                ${flag('checkpoint-error-destroy')}`);
  }
  if (failedCount > failed.length) out(`… and ${failedCount - failed.length} more failed tables (\`tempest status ${selector}\` lists them all)`);
  if (failedCount > 1) out(`  (or name all failed tables at once: --checkpoint-error-ignore=all / --checkpoint-error-destroy=all)`);
  return failedCount;
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
