/**
 * Exact decimal arithmetic on digit strings, to predict how the target renders a number it stored
 * (DECIMAL rounds half away from zero to the column's scale).
 */

interface DecimalDigits {
  negative: boolean;
  /** All significant digits, no point. */
  digits: string;
  /** Where the point goes: digits.length - pointFromRight digits before it. */
  scale: number;
}

const numberPattern = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

function parseDecimal(text: string): DecimalDigits | undefined {
  const match = numberPattern.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const integer = match[2];
  const fraction = match[3] ?? '';
  const exponent = match[4] ? Number(match[4]) : 0;
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return undefined;
  return { negative: match[1] === '-', digits: integer + fraction, scale: fraction.length - exponent };
}

/**
 * `text` (an integer, decimal or exponent literal) as the target shows it in a DECIMAL(…, scale)
 * column; `undefined` when it is not a number. Scale 0 gives integers.
 */
export function decimalText(text: string, scale: number): string | undefined {
  const parsed = parseDecimal(text);
  if (!parsed) return undefined;
  let { digits } = parsed;
  let currentScale = parsed.scale;
  if (currentScale < 0) {
    digits += '0'.repeat(-currentScale);
    currentScale = 0;
  }
  if (currentScale > scale) {
    const drop = currentScale - scale;
    const kept = digits.slice(0, Math.max(0, digits.length - drop)) || '0';
    const firstDropped = digits.length - drop >= 0 ? digits[digits.length - drop] : '0';
    digits = firstDropped >= '5' ? addOne(kept) : kept;
    currentScale = scale;
  }
  digits += '0'.repeat(scale - currentScale);
  const integerLength = digits.length - scale;
  let integerPart = integerLength > 0 ? digits.slice(0, integerLength) : '';
  const fractionPart = integerLength > 0 ? digits.slice(integerLength) : '0'.repeat(-integerLength) + digits;
  integerPart = integerPart.replace(/^0+/, '') || '0';
  const isZero = integerPart === '0' && /^0*$/.test(fractionPart);
  const sign = parsed.negative && !isZero ? '-' : '';
  return scale > 0 ? `${sign}${integerPart}.${fractionPart.slice(0, scale)}` : `${sign}${integerPart}`;
}

function addOne(digits: string): string {
  const chars = digits.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    if (chars[i] === '9') chars[i] = '0';
    else {
      chars[i] = String(Number(chars[i]) + 1);
      return chars.join('');
    }
  }
  return '1' + chars.join('');
}
