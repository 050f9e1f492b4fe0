/**
 * Bytes built up in one growing buffer, reused from row to row. Short texts are copied by hand: for
 * a few bytes, Buffer.write's call into C++ costs more than the copy, and this runs for every value.
 */
export class ByteBuilder {
  buffer: Buffer;
  length = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, 64));
  }

  /** Room for `extra` more bytes after `length`. */
  reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(byte: number): void {
    this.reserve(1);
    this.buffer[this.length++] = byte;
  }

  /** Text whose characters are single bytes (ASCII, or a byte string). */
  latin1(text: string): void {
    this.reserve(text.length);
    const buffer = this.buffer;
    let w = this.length;
    for (let i = 0; i < text.length; i++) buffer[w++] = text.charCodeAt(i);
    this.length = w;
  }

  bytes(bytes: Buffer): void {
    this.range(bytes, 0, bytes.length);
  }

  /** src[start, end). */
  range(src: Buffer, start: number, end: number): void {
    const length = end - start;
    this.reserve(length);
    if (length > 48) {
      this.length += src.copy(this.buffer, this.length, start, end);
      return;
    }
    const buffer = this.buffer;
    let w = this.length;
    for (let i = start; i < end; i++) buffer[w++] = src[i];
    this.length = w;
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
