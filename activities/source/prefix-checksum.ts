import zlib from 'node:zlib';

/**
 * CRC32 of a chunk's bytes from its start up to a position, kept as the chunk is read. Stored with
 * each committed position, it tells later whether the part of a file already imported is still the
 * same bytes, even when the file was edited further on.
 */
export class PrefixChecksum {
  private pending: Buffer[] = [];
  private pendingStart: number;
  private crc: number;
  private crcEnd: number;

  /** `start`: where the stream begins; `crcAtStart`: the CRC of the chunk's bytes before it. */
  constructor(start: number, crcAtStart: number) {
    this.pendingStart = start;
    this.crcEnd = start;
    this.crc = crcAtStart;
  }

  /** Passes the stream through, keeping the buffers not yet hashed. */
  async *observe(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const buffer of bytes) {
      this.pending.push(buffer);
      yield buffer;
    }
  }

  /** The CRC of the chunk's bytes up to `position` (at or past the last position asked for). */
  at(position: number): number {
    while (this.crcEnd < position && this.pending.length > 0) {
      const buffer = this.pending[0];
      const from = this.crcEnd - this.pendingStart;
      const to = Math.min(buffer.length, position - this.pendingStart);
      if (to > from) this.crc = zlib.crc32(buffer.subarray(from, to), this.crc);
      this.crcEnd = this.pendingStart + to;
      if (to === buffer.length) {
        this.pending.shift();
        this.pendingStart += buffer.length;
      }
    }
    return this.crc;
  }
}

/** The CRC of the first `length` bytes of a stream (which must be that long), reading no further. */
export async function checksumOfFirst(bytes: AsyncIterable<Buffer>, length: number): Promise<number | undefined> {
  let crc = 0;
  let remaining = length;
  for await (const buffer of bytes) {
    if (remaining <= 0) break;
    if (buffer.length === 0) continue;
    const part = buffer.length > remaining ? buffer.subarray(0, remaining) : buffer;
    crc = zlib.crc32(part, crc);
    remaining -= part.length;
  }
  return remaining === 0 ? crc : undefined;
}

/** The CRC and length of a whole stream. */
export async function checksumOfAll(bytes: AsyncIterable<Buffer>): Promise<{ crc: number; length: number }> {
  let crc = 0;
  let length = 0;
  for await (const buffer of bytes) {
    if (buffer.length === 0) continue;
    crc = zlib.crc32(buffer, crc);
    length += buffer.length;
  }
  return { crc, length };
}
