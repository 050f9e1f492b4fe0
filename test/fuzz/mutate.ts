import type { Rng } from './random';

/** What a text reader's grammar turns on: quotes, escapes, separators, terminators, comments, literals' prefixes. */
export const TEXT_TOKENS = ["'", '"', '\\', '(', ')', ',', ';', '\n', '\r', '\r\n', '`', '/*', '*/', '-- ', '#', '0x', "X'", "b'", '_binary', 'NULL', '\\N', '~~', '||', '<>\n', '^', '\ufeff'];

/** Bytes at the edges of number encodings (lengths, counts, varints, flags in binary formats). */
const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/**
 * Applies one to three random mutations: delete, insert (a token or random bytes), flip a bit, set
 * a byte to an edge value, duplicate a range, truncate, replace a byte by a token, or splice in a
 * piece of `other` (another input of the corpus).
 */
export function mutate(r: Rng, data: Buffer, tokens: readonly string[], other?: Buffer): Buffer {
  let out = data;
  const count = r.range(1, 3);
  for (let i = 0; i < count; i++) {
    const at = r.int(out.length + 1);
    switch (r.int(8)) {
      case 0:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + r.range(1, 8))]);
        break;
      case 1: {
        const insert = r.chance(0.6) ? Buffer.from(r.pick(tokens)) : Buffer.from(Array.from({ length: r.range(1, 4) }, () => r.int(256)));
        out = Buffer.concat([out.subarray(0, at), insert, out.subarray(at)]);
        break;
      }
      case 2:
      case 3:
        if (at < out.length) {
          out = Buffer.from(out);
          if (r.chance(0.5)) out[at] ^= 1 << r.int(8);
          else out[at] = r.pick(EDGE_BYTES);
        }
        break;
      case 4: {
        const end = Math.min(out.length, at + r.range(1, 12));
        out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      }
      case 5:
        out = out.subarray(0, at);
        break;
      case 6:
        out = Buffer.concat([out.subarray(0, at), Buffer.from(r.pick(tokens)), out.subarray(at + 1)]);
        break;
      default: {
        // A splice: this input's head, then a piece of another from a random place.
        if (!other || other.length === 0) break;
        const from = r.int(other.length);
        out = Buffer.concat([out.subarray(0, at), other.subarray(from, from + r.range(1, 256)), out.subarray(at + r.range(0, 16))]);
      }
    }
  }
  return out;
}
