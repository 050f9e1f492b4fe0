/**
 * What a literal's text is as a number, read once per value and shared by the LOAD DATA batch and
 * the row checksum (each asked this of every number imported):
 * - `NOT_A_NUMBER`: not `[+-]digits[.digits][e[+-]digits]` (or `.digits`): `0x…`, TRUE, …;
 * - `NOT_CANONICAL`: a number, but not written as the target shows it (a `+`, leading zeros, an
 *   exponent, a bare `.5` or `5.`, a negative zero);
 * - n ≥ 0: `-?(0|[1-9]digits)[.digits]` with n digits after the point, as the target shows a
 *   DECIMAL of scale n (an integer for n = 0), and as a string column stores it unchanged.
 */
export const NOT_A_NUMBER = -1;
export const NOT_CANONICAL = -2;

const PLUS = 0x2b;
const MINUS = 0x2d;
const POINT = 0x2e;
const ZERO = 0x30;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= 0x39;
}

/** The form of src[start, end) (see above). */
export function numberForm(src: Buffer, start: number, end: number): number {
  let i = start;
  const sign = src[i];
  if (sign === PLUS || sign === MINUS) i++;
  const integerStart = i;
  while (i < end && isDigit(src[i])) i++;
  const integerDigits = i - integerStart;
  let nonZero = integerDigits > 1 || (integerDigits === 1 && src[integerStart] !== ZERO);
  let fractionDigits = -1;
  if (i < end && src[i] === POINT) {
    const fractionStart = ++i;
    while (i < end && isDigit(src[i])) {
      if (src[i] !== ZERO) nonZero = true;
      i++;
    }
    fractionDigits = i - fractionStart;
  }
  if (integerDigits + Math.max(fractionDigits, 0) === 0) return NOT_A_NUMBER;
  if (i < end && (src[i] | 0x20) === 0x65) {
    i++;
    if (i < end && (src[i] === PLUS || src[i] === MINUS)) i++;
    if (!(i < end && isDigit(src[i]))) return NOT_A_NUMBER;
    while (i < end && isDigit(src[i])) i++;
    return i === end ? NOT_CANONICAL : NOT_A_NUMBER;
  }
  if (i !== end) return NOT_A_NUMBER;
  const canonical =
    sign !== PLUS &&
    integerDigits > 0 &&
    !(integerDigits > 1 && src[integerStart] === ZERO) &&
    fractionDigits !== 0 &&
    !(sign === MINUS && !nonZero);
  return canonical ? Math.max(fractionDigits, 0) : NOT_CANONICAL;
}
