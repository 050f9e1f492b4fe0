/**
 * `[[mydumper.files]]` patterns and templates as Lightning reads them: its patterns are Go (RE2)
 * regular expressions and its `schema`/`table`/`type`/`key` templates follow Go's Regexp.Expand.
 * A rule pasted from a Lightning config must match the same files here, so the Go-only syntax
 * that JavaScript would reject, or worse read differently without a word, is translated:
 * - leading inline flags `(?i)`, `(?s)`, `(?m)` (Lightning's documented rules start with `(?i)`);
 * - named groups `(?P<name>…)`;
 * - `\A` and `\z` (start and end of text; JavaScript would read `\z` as a plain `z`);
 * - POSIX classes such as `[[:digit:]]` (JavaScript would read them as a set of characters).
 */

const posixClasses: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

export interface CompiledPattern {
  regex: RegExp;
  groupCount: number;
  groupNames: Set<string>;
}

/** Compiles a Go regular expression; throws an Error saying what is wrong (the caller names the rule). */
export function compileGoPattern(pattern: string): CompiledPattern {
  let flags = '';
  let source = pattern;
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    if (leading[1].includes('U')) throw new Error('the ungreedy flag (?U) has no JavaScript equivalent: write lazy quantifiers (*?, +?) instead');
    flags = [...new Set(leading[1])].join('');
    source = source.slice(leading[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      // Lookarounds, not ^ and $: those would mean line starts and ends under (?m).
      if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'z') out += '(?![\\s\\S])';
      else out += char + next;
      i++;
    } else if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(source.slice(i));
      if (posix && posixClasses[posix[2]] && posix[1] === '') {
        out += posixClasses[posix[2]];
        i += posix[0].length - 1;
      } else if (posix) {
        throw new Error(`the class [:${posix[1]}${posix[2]}:] is not supported here: write its characters out`);
      } else {
        if (char === ']') inClass = false;
        out += char;
      }
    } else if (char === '[') {
      inClass = true;
      out += char;
      // A `]` or `^]` right after the opening bracket is a member, not the end.
      const head = /^\^?\]?/.exec(source.slice(i + 1))![0];
      out += head.replace(']', '\\]');
      i += head.length;
    } else if (source.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (source.startsWith('(?', i) && /^\(\?[imsU-]+[:)]/.test(source.slice(i))) {
      throw new Error('inline flags are only supported at the very start of the pattern, e.g. (?i)^data/…');
    } else {
      out += char;
    }
  }
  const regex = new RegExp(out, flags);
  const empty = new RegExp(`${out}|`, flags).exec('')!;
  return { regex, groupCount: empty.length - 1, groupNames: new Set(Object.keys(empty.groups ?? {})) };
}

/** `$1`, `${1}`, `$name`, `${name}` and `$$` in a template, as Go's Regexp.Expand reads them (`$1x` is the group named `1x`). */
const reference = /\$(?:\$|\{(\w+)\}|(\w+))?/g;

/** Throws when the template refers to a group the pattern does not have (Go would silently put nothing there). */
export function checkTemplate(template: string, pattern: CompiledPattern): void {
  for (const match of template.matchAll(reference)) {
    if (match[0] === '$$') continue;
    const name = match[1] ?? match[2];
    if (name === undefined) throw new Error(`"${template}" has a "$" that names no group: write $$ for a dollar sign`);
    const known = /^\d+$/.test(name) ? Number(name) <= pattern.groupCount : pattern.groupNames.has(name);
    if (!known) {
      const hint = /^\d+\w/.test(name) ? ` (as in Go, $${name} is the group named "${name}": write \${${name.match(/^\d+/)![0]}}${name.replace(/^\d+/, '')})` : '';
      throw new Error(`"${template}" refers to group ${name}, which the pattern does not have${hint}`);
    }
  }
}

/** The template with each group reference replaced by what that group matched ('' when it matched nothing). */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  return template.replace(reference, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare ?? '';
    return (/^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name]) ?? '';
  });
}
