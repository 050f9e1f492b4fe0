import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../user-error';

/** Where scripts/ensure-temporal.sh installs the Temporal CLI: outside the clone, shared by all checkouts. */
export function temporalCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tempest', 'bin');
}

/** The Temporal CLI binary: $TEMPEST_TEMPORAL_BIN, the install cache, or `temporal` on PATH. */
export function findTemporalBinary(): string {
  const candidates = [process.env.TEMPEST_TEMPORAL_BIN, path.join(temporalCacheDir(), 'temporal')];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'temporal'));
  const found = candidates.find((candidate) => candidate && isExecutable(candidate));
  if (!found) {
    throw new UserError('the Temporal CLI is not installed: run `bash scripts/ensure-temporal.sh` (or set [temporal] address to use your own cluster)');
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
