import fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import { UnsnappyStream } from 'snappystream';
import type { Compression } from './layout-types';
import { SourceFormatError } from './row';

export interface OpenedDataFile {
  /** The uncompressed bytes, from `startOffset` on. */
  bytes: AsyncIterable<Buffer>;
  /** Where `bytes` begins in the uncompressed stream: a compressed file always starts at 0. */
  startOffset: number;
  /** How many bytes of the file on disk have been read so far (for progress of compressed files). */
  diskBytesRead(): number;
  close(): void;
}

/**
 * Opens a data file as a stream of uncompressed bytes. An uncompressed file is read from
 * `offset` directly; a compressed one is decompressed from its start (callers skip to the offset).
 * Damaged compressed data is a SourceFormatError at the uncompressed offset it was reached.
 */
export function openDataFile(path: string, compression: Compression, offset: number, readBlockSize: number): OpenedDataFile {
  const seekable = compression === 'none';
  const file = fs.createReadStream(path, { start: seekable ? offset : 0, highWaterMark: Math.max(readBlockSize, DISK_READ_BYTES) });
  const decompressor = createDecompressor(compression);
  if (decompressor) file.on('error', (error) => decompressor.destroy(error));
  return {
    bytes: decompressor ? decompressed(file.pipe(decompressor), compression, path, () => file.bytesRead) : inBlocks(file, readBlockSize),
    startOffset: seekable ? offset : 0,
    diskBytesRead: () => (seekable ? offset : 0) + file.bytesRead,
    close: () => {
      file.destroy();
      decompressor?.destroy();
    },
  };
}

/**
 * How much one read from disk asks for. Reading 64 KiB at a time costs several times the CPU of
 * reading 1 MiB (0.25-0.47 s against 0.09-0.11 s for the 268 MB bench dump, most of it in the
 * kernel and in Node's per-read work), so files are read in large pieces and handed on in blocks.
 */
const DISK_READ_BYTES = 1024 * 1024;

/**
 * The bytes in blocks of at most `blockSize` (read-block-size), each after a turn of the event
 * loop: a chunk's parser takes one block per turn, so it never holds up another chunk's writes
 * for longer than a block takes (a 1 MiB block at once made imports slower).
 */
async function* inBlocks(bytes: AsyncIterable<Buffer>, blockSize: number): AsyncGenerator<Buffer> {
  for await (const piece of bytes) {
    for (let start = 0; start < piece.length; start += blockSize) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      yield piece.subarray(start, Math.min(start + blockSize, piece.length));
    }
  }
}

/** Decompressors are streamed: memory holds a window and a block or two, never the file. */
function createDecompressor(compression: Compression): Transform | undefined {
  switch (compression) {
    case 'none':
      return undefined;
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
      return new ZstdDecompressor();
    case 'snappy':
      // Dumpling writes the snappy framing format (Go's snappy.NewBufferedWriter), as Lightning reads
      // it; mydumper writes no snappy. The frames' CRC32C checksums are verified.
      return new UnsnappyStream(true);
  }
}

/**
 * Node 20's zlib has no zstd: fzstd decompresses in plain JavaScript, a block at a time. Its window
 * is at most 32 MiB, enough for every level but `--ultra`/`--long` ones, which it refuses.
 */
class ZstdDecompressor extends Transform {
  private readonly zstd = new ZstdStream((data) => {
    if (data.length > 0) this.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.zstd.push(chunk);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.zstd.push(new Uint8Array(0), true);
      done();
    } catch (error) {
      done(error as Error);
    }
  }
}

/** The decompressed stream, with a decompressor's error turned into a SourceFormatError that says where. */
async function* decompressed(stream: AsyncIterable<Buffer>, compression: Compression, path: string, diskBytesRead: () => number): AsyncGenerator<Buffer> {
  let offset = 0;
  try {
    for await (const bytes of stream) {
      offset += bytes.length;
      yield bytes;
    }
  } catch (error) {
    // The file itself could not be read (permissions, a directory): not a format problem.
    if (typeof (error as NodeJS.ErrnoException).syscall === 'string') throw error;
    const hint = compression === 'snappy' ? ' (Dumpling writes the snappy framing format, which starts with "sNaPpY")' : '';
    throw new SourceFormatError(
      path,
      offset,
      `the ${compression} data cannot be decompressed past this point, within the first ${diskBytesRead()} bytes of the file on disk: ${(error as Error).message}${hint}; ` +
        `the file is damaged, or is not ${compression} data as its name or [[mydumper.files]] rule says`,
    );
  }
}
