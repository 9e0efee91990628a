/**
 * The exact grammar of the integers in [lo, hi] (JSON spelling: no leading zeros, no "-0"), as an xgrammar EBNF rule
 * body. xgrammar 0.1.27's own ranges leak: `minimum: -5, maximum: 120` accepts 121–129 and `[-280, -274]` accepts
 * -272 (its digit-by-digit split mishandles bounds whose tail is not 0…0 / 9…9), so bounded integers are compiled
 * from this instead (see schema-ebnf.ts). The split is the classic one (per digit count, then per leading digit),
 * written as a tree: alternatives of one group never start with the same literal, and digits are spelled out rather
 * than `[0-9]{k}`. Both shapes made xgrammar's matcher accept far too much: `("-" "9" [0-9] [0-9]) | ("-" [1-9]
 * [0-9] [0-9] [0-9]) | …` accepted "-999999", and alternatives ending in `[0-9]{7}` / `[0-9]{8}` accepted 10 digits.
 */

const group = (alts: string[]): string => (alts.length === 1 ? alts[0] : `(${alts.join(' | ')})`);
const seq = (...items: string[]): string => items.filter((s) => s !== '').join(' ');
const cls = (a: number, b: number): string => (a === b ? `"${a}"` : `[${a}-${b}]`);
const anyDigits = (k: number): string => Array.from({ length: k }, () => '[0-9]').join(' ');

/** An expression matching exactly the digit strings of length n in [x, y] (x ≤ y, both n digits). */
function sameLength(x: string, y: string): string {
  const n = x.length;
  if (n === 0) return '';
  const x0 = Number(x[0]);
  const y0 = Number(y[0]);
  if (n === 1) return cls(x0, y0);
  if (x0 === y0) return seq(`"${x0}"`, sameLength(x.slice(1), y.slice(1)));
  const restLow = x.slice(1);
  const restHigh = y.slice(1);
  const lowFull = /^0*$/.test(restLow); // x0 followed by anything
  const highFull = /^9*$/.test(restHigh); // y0 followed by anything
  // Three groups with disjoint leading digits: x0, (x0, y0), y0.
  const alts: string[] = [];
  if (!lowFull) alts.push(seq(`"${x0}"`, group([sameLength(restLow, '9'.repeat(n - 1))])));
  const from = lowFull ? x0 : x0 + 1;
  const to = highFull ? y0 : y0 - 1;
  if (from <= to) alts.push(seq(cls(from, to), anyDigits(n - 1)));
  if (!highFull) alts.push(seq(`"${y0}"`, group([sameLength('0'.repeat(n - 1), restHigh)])));
  return group(alts);
}

/** `[0-9]` then up to k - 1 more, nested: `([0-9] ([0-9] …)?)?` with k levels. */
function upTo(k: number): string {
  return k === 0 ? '' : `(${seq('[0-9]', upTo(k - 1))})?`;
}

/**
 * An expression for the positive integers in [a, b] (1 ≤ a ≤ b): the partial first and last digit counts, and the
 * full ones between as one nested optional tail (alternatives `[1-9] [0-9]…` of consecutive lengths made
 * xgrammar accept longer numbers than any of them).
 */
function positive(a: number, b: number): string {
  const la = String(a).length;
  const lb = String(b).length;
  if (la === lb) return sameLength(String(a), String(b));
  const alts: string[] = [];
  let fullFrom = la;
  if (a !== 10 ** (la - 1)) {
    alts.push(sameLength(String(a), '9'.repeat(la)));
    fullFrom = la + 1;
  }
  let fullTo = lb;
  if (b !== 10 ** lb - 1) {
    alts.push(sameLength(String(10 ** (lb - 1)), String(b)));
    fullTo = lb - 1;
  }
  if (fullFrom <= fullTo) alts.push(seq('[1-9]', anyDigits(fullFrom - 1), upTo(fullTo - fullFrom)));
  return group(alts);
}

/** EBNF rule body for the integers in [lo, hi] (safe integers, lo ≤ hi). */
export function integerRangeEbnf(lo: number, hi: number): string {
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) throw new RangeError(`bad integer range [${lo}, ${hi}]`);
  const alts: string[] = [];
  if (lo < 0) alts.push(seq('"-"', positive(Math.max(1, -hi), -lo)));
  if (lo <= 0 && hi >= 0) alts.push('"0"');
  if (hi > 0) alts.push(positive(Math.max(1, lo), hi));
  return alts.join(' | ');
}
