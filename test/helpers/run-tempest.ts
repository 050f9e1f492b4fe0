import { execFile } from 'node:child_process';
import path from 'node:path';

/** The command as a user runs it (bin/tempest runs node on the compiled client). */
export const tempestBin = path.resolve(__dirname, '../../../bin/tempest');

export interface TempestRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin/tempest` with these arguments to its end, whatever its exit code. */
export function runTempest(args: string[], timeoutMs = 120_000): Promise<TempestRun> {
  return new Promise((resolve, reject) => {
    execFile(tempestBin, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}
