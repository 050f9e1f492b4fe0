import assert from 'node:assert/strict';
import { snappyFramed, zstd } from '../helpers/compress';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, test } from 'node:test';
import { openDataFile } from '../../activities/source/open-data-file';
import { SourceFormatError } from '../../activities/source/row';
import type { Compression } from '../../activities/source/layout-types';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tempest-decompress-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Some 3 MB of dump-like text with random parts, so it neither compresses to nothing nor fits one block. */
const plain = Buffer.from(
  Array.from({ length: 40_000 }, (_, i) => `(${i},'name ${i}','${crypto.randomBytes(12).toString('base64')}',NULL,${(i * 7.25).toFixed(2)}),\n`).join(''),
);

function write(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

async function readAll(file: string, compression: Compression, readBlockSize = 4096): Promise<Buffer> {
  const opened = openDataFile(file, compression, 0, readBlockSize);
  const parts: Buffer[] = [];
  try {
    for await (const part of opened.bytes) parts.push(part);
  } finally {
    opened.close();
  }
  assert.equal(opened.diskBytesRead(), fs.statSync(file).size, 'the whole file on disk was read');
  return Buffer.concat(parts);
}

async function readError(file: string, compression: Compression): Promise<SourceFormatError> {
  try {
    await readAll(file, compression);
  } catch (error) {
    assert.ok(error instanceof SourceFormatError, `a SourceFormatError, not ${String(error)}`);
    return error;
  }
  assert.fail('the damaged file was read without an error');
}

test('gzip, zstd and framed snappy files decompress, streamed, to their exact bytes', async () => {
  const files: Array<[string, Compression]> = [
    [write('t.gz', zlib.gzipSync(plain)), 'gzip'],
    [write('t.zst', zstd(plain)), 'zstd'],
    [write('t19.zst', zstd(plain, '-19')), 'zstd'],
    [write('t.snappy', await snappyFramedSplit(plain)), 'snappy'],
  ];
  for (const [file, compression] of files) {
    for (const block of [1, 777, 64 * 1024]) {
      assert.ok((await readAll(file, compression, block)).equals(plain), `${path.basename(file)} read ${block} bytes at a time`);
    }
  }
});

test('zstd: several frames in one file, skippable frames and an empty file', async () => {
  const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]), Buffer.from('skip')]);
  const half = plain.length >> 1;
  const frames = write('frames.zst', Buffer.concat([zstd(plain.subarray(0, half)), skippable, zstd(plain.subarray(half))]));
  assert.ok((await readAll(frames, 'zstd')).equals(plain));
  assert.equal((await readAll(write('empty.zst', zstd(Buffer.alloc(0))), 'zstd')).length, 0);
});

test('damaged compressed data is a SourceFormatError that names the file and how far it got', async () => {
  const compressed = zstd(plain);
  const flipped = Buffer.from(compressed);
  for (let i = 1000; i < 1100; i++) flipped[i] ^= 0x5a;
  const cases: Array<[string, Compression, RegExp]> = [
    [write('cut.zst', compressed.subarray(0, compressed.length - 100)), 'zstd', /zstd data cannot be decompressed/],
    [write('flipped.zst', flipped), 'zstd', /zstd data cannot be decompressed/],
    [write('cut.gz', zlib.gzipSync(plain).subarray(0, 5000)), 'gzip', /gzip data cannot be decompressed/],
    [write('notgzip.gz', plain.subarray(0, 5000)), 'gzip', /is not gzip data as its name/],
  ];
  for (const [file, compression, reason] of cases) {
    const error = await readError(file, compression);
    assert.equal(error.path, file);
    assert.match(error.message, reason);
    assert.match(error.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte offset \\d+: `));
    assert.ok(error.offset >= 0 && error.offset <= plain.length);
  }
});

test('snappy: a raw (unframed) file, a bad checksum and a cut frame are errors', async () => {
  const framed = await snappyFramedSplit(plain);
  const raw = await readError(write('raw.snappy', zlib.deflateRawSync(plain)), 'snappy');
  assert.match(raw.message, /snappy framing format/);
  const badChecksum = Buffer.from(framed);
  badChecksum[14] ^= 0xff; // the first data frame's checksum (after the 10-byte stream identifier and a 4-byte header)
  const checksum = await readError(write('crc.snappy', badChecksum), 'snappy');
  assert.match(checksum.message, /checksum/);
  assert.equal(checksum.offset, 0, 'no byte of the damaged frame was handed on');
  const cut = await readError(write('cut.snappy', framed.subarray(0, framed.length - 10)), 'snappy');
  assert.match(cut.message, /snappy data cannot be decompressed/);
});

test('a file that cannot be opened keeps its file-system error', async () => {
  const opened = openDataFile(path.join(dir, 'missing.zst'), 'zstd', 0, 4096);
  await assert.rejects(
    (async () => {
      for await (const part of opened.bytes) void part;
    })(),
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT' && !(error instanceof SourceFormatError),
  );
  opened.close();
});

/** Fed in two pieces, so the framing holds across the compressor's input boundaries. */
function snappyFramedSplit(input: Buffer): Promise<Buffer> {
  return snappyFramed(input, [input.subarray(0, 100_000), input.subarray(100_000)]);
}
