import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SnappyStream } from 'snappystream';

/** zstd files are made by the zstd tool, as mydumper's libzstd writes them. */
export function zstd(input: Buffer, ...flags: string[]): Buffer {
  const result = spawnSync('zstd', ['-q', '-c', ...flags], { input, maxBuffer: 1 << 30 });
  if (result.error || result.status !== 0) throw new Error(`the zstd tool is needed for this test (apt-get install zstd): ${result.error?.message ?? result.stderr}`);
  return result.stdout;
}

/** Snappy's framing format, as Dumpling writes it; `parts` feeds the compressor in pieces. */
export async function snappyFramed(input: Buffer, parts: Buffer[] = [input]): Promise<Buffer> {
  const output: Buffer[] = [];
  const compressor = new SnappyStream();
  compressor.on('data', (part: Buffer) => output.push(part));
  await pipeline(Readable.from(parts), compressor);
  return Buffer.concat(output);
}
