import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * What the benchmarks read of this machine's processes, from Linux's /proc: CPU time (user +
 * system) and bytes written, so a result says who spent what.
 */

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** User + system CPU time, in clock ticks (CLK_TCK a second). */
  ticks: number;
  start: string;
}

export function readStat(pid: number | string): ProcStat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    return { pid: Number(pid), ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]), start: fields[19] };
  } catch {
    return undefined;
  }
}

/** CPU seconds a running process has used so far (0 once it is gone, or when there is none). */
export function cpuSeconds(pid: number | undefined): number {
  return pid === undefined ? 0 : (readStat(pid)?.ticks ?? 0) / CLK_TCK;
}

export function findProcess(comm: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (readStat(entry)?.comm === comm) return Number(entry);
  }
  return undefined;
}

/** The local MariaDB server's process, when the target runs on this machine. */
export function findMariadbd(): number | undefined {
  return findProcess('mariadbd') ?? findProcess('mysqld');
}

/** Busy CPU seconds of the whole machine so far (all cores): to see what else ran during a load. */
export function machineBusySeconds(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - fields[3] - fields[4]) / CLK_TCK;
}

export function readWriteBytes(pid: number): number {
  try {
    const match = /write_bytes:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
