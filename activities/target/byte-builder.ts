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
    this.reserve(bytes.length);
    this.length += bytes.copy(this.buffer, this.length);
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
