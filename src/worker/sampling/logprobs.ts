/**
 * Log-probabilities reported to clients: log-softmax of the model's raw logits (before penalties,
 * bias, temperature and truncation — "raw" logprobs, as vLLM reports them by default).
 */
import { expNonPositive } from './sampler';

export interface TopEntry {
  tokenId: number;
  logprob: number;
}

export interface RawLogprobs {
  /** log-sum-exp of the raw row. */
  lse: number;
  /** The n most likely tokens with their logprobs, best first. */
  top: TopEntry[];
}

/** log Σ exp(l): one pass, the sum rescaled whenever the maximum rises (online softmax). */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > max) {
      sum *= expNonPositive(max - v);
      max = v;
    }
    sum += expNonPositive(v - max);
  }
  return max > -Infinity ? max + Math.log(sum) : max;
}

/** The n largest entries, best first, ties to the lower id (n small: one pass against the n-th best's value). */
export function topN(logits: Float32Array, n: number): number[] {
  const ids: number[] = [];
  if (n <= 0) return ids;
  let bar = -Infinity; // the n-th best so far, once n are held
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (ids.length === n && !(v > bar)) continue;
    let j = ids.length < n ? ids.length : n - 1;
    if (ids.length < n) ids.push(i);
    while (j > 0 && logits[ids[j - 1]] < v) {
      ids[j] = ids[j - 1];
      j -= 1;
    }
    ids[j] = i;
    if (ids.length === n) bar = logits[ids[n - 1]];
  }
  return ids;
}

export function rawLogprobs(raw: Float32Array, n: number): RawLogprobs {
  const lse = logSumExp(raw);
  return { lse, top: topN(raw, n).map((tokenId) => ({ tokenId, logprob: raw[tokenId] - lse })) };
}
