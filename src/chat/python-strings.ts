/**
 * The few Python string operations FastChat's templates rely on, with Python's exact semantics
 * (JavaScript's trim() and Python's strip() disagree on some characters).
 */

/** Characters for which Python's `str.isspace()` is true (what `str.strip()` removes). */
const PY_WHITESPACE = new Set([
  '\t', '\n', '\x0b', '\x0c', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\x85', '\xa0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
  '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
]);

/** Python `s.rstrip(chars)`: removes trailing characters that are in the set `chars`. */
export function pyRstrip(text: string, chars?: string): string {
  const strip = chars === undefined ? PY_WHITESPACE : new Set(chars);
  let end = text.length;
  while (end > 0 && strip.has(text[end - 1])) end -= 1;
  return text.slice(0, end);
}

/** Python `s.lstrip(chars)`. */
export function pyLstrip(text: string, chars?: string): string {
  const strip = chars === undefined ? PY_WHITESPACE : new Set(chars);
  let start = 0;
  while (start < text.length && strip.has(text[start])) start += 1;
  return text.slice(start);
}

/** Python `s.strip()` (whitespace as Python defines it). */
export function pyStrip(text: string): string {
  return pyLstrip(pyRstrip(text));
}

/** Raised where Python would raise (the batch output shows `${pythonType}: ${message}` like FastChat's traceback). */
export class PythonError extends Error {
  constructor(
    readonly pythonType: 'ValueError' | 'KeyError' | 'TypeError' | 'IndexError',
    message: string,
  ) {
    super(message);
    this.name = 'PythonError';
  }

  /** The text Python prints for this exception: `ValueError: Invalid style: None`. */
  get pythonText(): string {
    return `${this.pythonType}: ${this.message}`;
  }
}

/**
 * Python `template.format(**fields)` for plain `{name}` fields and the `{{` / `}}` escapes (all that
 * FastChat's system templates use). A missing field raises KeyError as Python does.
 */
export function pyFormat(template: string, fields: Readonly<Record<string, string>>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      out += c;
      i += 2;
      continue;
    }
    if (c === '}') throw new PythonError('ValueError', "Single '}' encountered in format string");
    if (c !== '{') {
      out += c;
      i += 1;
      continue;
    }
    const close = template.indexOf('}', i);
    if (close < 0) throw new PythonError('ValueError', "Single '{' encountered in format string");
    const name = template.slice(i + 1, close);
    if (!Object.prototype.hasOwnProperty.call(fields, name)) throw new PythonError('KeyError', `'${name}'`);
    out += fields[name];
    i = close + 1;
  }
  return out;
}

/** Python's `a + b` where either side may be None: FastChat templates with a missing separator raise TypeError. */
export function pyStr(value: string | null): string {
  if (value === null) throw new PythonError('TypeError', 'can only concatenate str (not "NoneType") to str');
  return value;
}
