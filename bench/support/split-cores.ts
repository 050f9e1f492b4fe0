import { execFileSync } from 'node:child_process';
import os from 'node:os';

/**
 * The machine's cores shared out as when the importer runs on another host than the database:
 * the local MariaDB on the upper half, the loaders (and this benchmark) on the lower half, so a
 * loader's own CPU does not take the server's. Set with `taskset` for every thread of mariadbd;
 * `restore` gives it back the cores it had.
 */
export interface CoreSplit {
  /** `taskset -c` list of the loaders' cores. */
  loaderCores: string;
  serverCores: string;
  /** The command and arguments that run `command argv…` on the loaders' cores. */
  onLoaderCores(command: string, argv: string[]): { command: string; argv: string[] };
  restore(): void;
}

export function splitCores(mariadbd: number): CoreSplit {
  const cores = os.cpus().length;
  if (cores < 2) throw new Error(`--split-cores: this machine has ${cores} core; it takes two or more`);
  const half = Math.floor(cores / 2);
  const range = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  const loaderCores = range(0, half - 1);
  const serverCores = range(half, cores - 1);
  // "pid 123's current affinity mask: 3"
  const savedMask = /mask:\s*([0-9a-f]+)/i.exec(execFileSync('taskset', ['-p', String(mariadbd)]).toString())?.[1];
  if (!savedMask) throw new Error('--split-cores: cannot read mariadbd\'s CPU affinity with taskset -p');
  execFileSync('taskset', ['-a', '-p', '-c', serverCores, String(mariadbd)], { stdio: 'ignore' });
  execFileSync('taskset', ['-a', '-p', '-c', loaderCores, String(process.pid)], { stdio: 'ignore' });
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    execFileSync('taskset', ['-a', '-p', savedMask, String(mariadbd)], { stdio: 'ignore' });
  };
  // However the benchmark ends, the server gets its cores back.
  process.once('exit', restore);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  return {
    loaderCores,
    serverCores,
    onLoaderCores: (command, argv) => ({ command: 'taskset', argv: ['-c', loaderCores, command, ...argv] }),
    restore,
  };
}
