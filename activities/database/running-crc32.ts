import zlib from 'node:zlib';

/**
 * CRC-32 (zlib's, which MariaDB's CRC32() computes) of bytes fed piece by piece where they lie, so a
 * row's canonical bytes are hashed without first being copied together. Most pieces are a value of
 * a few dozen bytes: those are hashed here, eight bytes a step (slicing-by-8), faster than a call
 * into zlib and the view it needs; longer pieces go to zlib (bench/encode-rows.ts measures both).
 */
export class RunningCrc32 {
  /** The CRC register, inverted, as the table steps keep it. */
  private register = -1;
  private readonly digits = new Uint8Array(10);

  reset(): void {
    this.register = -1;
  }

  /** The CRC of the bytes fed since the last reset. */
  get value(): number {
    return (this.register ^ -1) >>> 0;
  }

  byte(byte: number): void {
    const register = this.register;
    this.register = TABLES[(register ^ byte) & 0xff] ^ (register >>> 8);
  }

  /** src[start, end). */
  bytes(src: Buffer, start: number, end: number): void {
    if (end - start >= ZLIB_FROM) {
      this.register = zlib.crc32(src.subarray(start, end), (this.register ^ -1) >>> 0) ^ -1;
      return;
    }
    let register = this.register;
    let i = start;
    for (; i + 8 <= end; i += 8) {
      const low = register ^ (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24));
      register =
        TABLES[7 * 256 + (low & 0xff)] ^
        TABLES[6 * 256 + ((low >>> 8) & 0xff)] ^
        TABLES[5 * 256 + ((low >>> 16) & 0xff)] ^
        TABLES[4 * 256 + (low >>> 24)] ^
        TABLES[3 * 256 + src[i + 4]] ^
        TABLES[2 * 256 + src[i + 5]] ^
        TABLES[256 + src[i + 6]] ^
        TABLES[src[i + 7]];
    }
    for (; i < end; i++) register = TABLES[(register ^ src[i]) & 0xff] ^ (register >>> 8);
    this.register = register;
  }

  /** A non-negative integer below 2^32, in decimal digits. */
  decimal(value: number): void {
    if (value < 10) return this.byte(0x30 + value);
    let count = 0;
    for (let rest = value; rest > 0; rest = Math.floor(rest / 10)) this.digits[count++] = 0x30 + (rest % 10);
    while (count > 0) this.byte(this.digits[--count]);
  }
}

/** From this many bytes on, zlib.crc32's call costs less than hashing here. */
const ZLIB_FROM = 192;

/** TABLES[k * 256 + b]: the register's change for byte b followed by k zero bytes (slicing-by-8). */
const TABLES = new Int32Array(8 * 256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  TABLES[byte] = crc;
}
for (let k = 1; k < 8; k++) {
  for (let byte = 0; byte < 256; byte++) {
    const previous = TABLES[(k - 1) * 256 + byte];
    TABLES[k * 256 + byte] = (previous >>> 8) ^ TABLES[previous & 0xff];
  }
}
