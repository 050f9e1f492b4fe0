/**
 * Splits a small SQL file (a schema file) into statements at `;` outside strings, quoted names and
 * comments. Works on a byte string (one JS character per byte) so multi-byte names stay intact.
 * Plain comments are dropped; versioned comments (`/*!40101 … *\/`) are kept, since they execute.
 */
export function splitSqlStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const push = () => {
    if (current.trim() !== '') statements.push(current.trim());
    current = '';
  };
  while (i < text.length) {
    const char = text[i];
    if (char === "'" || char === '"' || char === '`') {
      const end = quotedEnd(text, i);
      current += text.slice(i, end);
      i = end;
    } else if (char === '-' && text[i + 1] === '-' && (i + 2 >= text.length || /\s/.test(text[i + 2]))) {
      i = lineEnd(text, i);
    } else if (char === '#') {
      i = lineEnd(text, i);
    } else if (char === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? text.length : close + 2;
      if (text[i + 2] === '!') current += text.slice(i, end);
      else current += ' ';
      i = end;
    } else if (char === ';') {
      push();
      i++;
    } else {
      current += char;
      i++;
    }
  }
  push();
  return statements;
}

function lineEnd(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  return newline < 0 ? text.length : newline + 1;
}

/** Index just past the string or quoted name opened at `start` (doubled quotes and, in strings, backslashes escape). */
function quotedEnd(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\' && quote !== '`') i += 2;
    else if (char === quote && text[i + 1] === quote) i += 2;
    else if (char === quote) return i + 1;
    else i++;
  }
  return text.length;
}
