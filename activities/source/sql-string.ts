/**
 * The bytes of a quoted SQL string's body, escapes resolved as MySQL reads them. The scan that
 * found the body guarantees that every backslash is followed by a byte and every quote `q` is doubled.
 */

const BACKSLASH = 0x5c;

/** Where `\x` leads: the byte it stands for; -1 for `\%` and `\_`, which keep their backslash (LIKE escapes, as in MySQL). */
const UNESCAPED = new Int16Array(256);
for (let c = 0; c < 256; c++) UNESCAPED[c] = c; // \\ \' \" and any other \x → x
UNESCAPED[0x30] = 0x00; // \0
UNESCAPED[0x62] = 0x08; // \b
UNESCAPED[0x6e] = 0x0a; // \n
UNESCAPED[0x72] = 0x0d; // \r
UNESCAPED[0x74] = 0x09; // \t
UNESCAPED[0x5a] = 0x1a; // \Z
UNESCAPED[0x25] = -1; // \%
UNESCAPED[0x5f] = -1; // \_

/** Writes the body buf[s, e) with escapes resolved into `out` at `at`; returns how many bytes (never more than e - s). */
export function unescapeSqlInto(buf: Buffer, s: number, e: number, q: number, out: Buffer, at: number): number {
  let w = at;
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c === BACKSLASH) {
      const d = buf[++i];
      const byte = UNESCAPED[d];
      if (byte < 0) out[w++] = BACKSLASH;
      out[w++] = byte < 0 ? d : byte;
    } else {
      out[w++] = c;
      if (c === q) i++; // the first of a doubled quote
    }
  }
  return w - at;
}

/**
 * The body buf[s, e) as a Buffer of its own, which does not keep the (large) input buffer alive.
 * Short copies by hand: for a few bytes, a JS loop beats the native copy's call overhead several times over.
 */
export function sqlStringBytes(buf: Buffer, s: number, e: number, escaped: boolean, q: number): Buffer {
  const out = Buffer.allocUnsafe(e - s); // never longer than the escaped text
  if (escaped) {
    const length = unescapeSqlInto(buf, s, e, q, out, 0);
    return length === out.length ? out : out.subarray(0, length);
  }
  if (e - s <= 48) {
    for (let k = 0; k < e - s; k++) out[k] = buf[s + k];
  } else {
    buf.copy(out, 0, s, e);
  }
  return out;
}
