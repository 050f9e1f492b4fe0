import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import type { Compression } from './layout-types';

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
 */
export function openDataFile(path: string, compression: Compression, offset: number, readBlockSize: number): OpenedDataFile {
  const seekable = compression === 'none';
  const file = fs.createReadStream(path, { start: seekable ? offset : 0, highWaterMark: readBlockSize });
  const decompressor = createDecompressor(compression);
  const bytes = decompressor ? file.pipe(decompressor) : file;
  if (decompressor) file.on('error', (error) => decompressor.destroy(error));
  return {
    bytes,
    startOffset: seekable ? offset : 0,
    diskBytesRead: () => (seekable ? offset : 0) + file.bytesRead,
    close: () => {
      file.destroy();
      decompressor?.destroy();
    },
  };
}

function createDecompressor(compression: Compression): Transform | undefined {
  switch (compression) {
    case 'none':
      return undefined;
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
    case 'snappy':
      throw new UnsupportedCompressionError(compression);
  }
}

export class UnsupportedCompressionError extends Error {
  constructor(readonly compression: Compression) {
    super(`${compression} files are not supported yet; decompress them first`);
  }
}
