/**
 * Where to cut a conversation into samples of at most `maxLength` tokens (FastChat's split_long_conversation,
 * made exact). Rounds (user + assistant) are packed greedily in order. Each decision uses an estimate with a
 * known error bound and falls back to the exact token count of the rendered window only when the estimate is
 * too close to call, so the result is what exact counting everywhere would give. Pure: token counting comes in.
 */

export interface SplitMeasures {
  rounds: number;
  /** Exact token count of rounds [start, end) rendered as one sample. */
  exact(start: number, end: number): number;
  /** Estimate of the same, off by at most `slack(start, end)`. */
  estimate(start: number, end: number): number;
  slack(start: number, end: number): number;
}

export interface SplitPlan {
  /** [start, end) round ranges, in order. */
  windows: Array<[number, number]>;
  /** Rounds that do not fit on their own, with their exact length. */
  overflowing: Array<{ round: number; tokens: number }>;
}

export function fits(m: SplitMeasures, start: number, end: number, maxLength: number): boolean {
  const estimate = m.estimate(start, end);
  const slack = m.slack(start, end);
  if (estimate + slack <= maxLength) return true;
  if (estimate - slack > maxLength) return false;
  return m.exact(start, end) <= maxLength;
}

export function planSplit(m: SplitMeasures, maxLength: number): SplitPlan {
  const windows: Array<[number, number]> = [];
  const overflowing: SplitPlan['overflowing'] = [];
  let start = 0;
  while (start < m.rounds) {
    if (!fits(m, start, start + 1, maxLength)) {
      overflowing.push({ round: start, tokens: m.exact(start, start + 1) });
      start += 1;
      continue;
    }
    let end = start + 1;
    while (end < m.rounds && fits(m, start, end + 1, maxLength)) end += 1;
    windows.push([start, end]);
    start = end;
  }
  return { windows, overflowing };
}
