/**
 * The sampler as it was before its fast paths (src/worker/sampling/sampler.ts at 95d270b): softmax over the whole
 * vocabulary with Math.exp, candidates as sorted number arrays. The tests check the fast sampler against it: the same
 * seed must draw the same tokens.
 */
import type { Rng } from '../../src/worker/sampling/sampler';
import type { ValidSamplingParams } from '../../src/worker/sampling/params';

/** Index of the largest value (the lowest index wins a tie). */
function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = logits[0];
  for (let i = 1; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

/** Softmax of logits / temperature into `probs` (same length). */
function softmaxInto(logits: Float32Array, temperature: number, probs: Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const inv = 1 / temperature;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] - max) * inv);
    probs[i] = e;
    sum += e;
  }
  const norm = 1 / sum;
  for (let i = 0; i < probs.length; i++) probs[i] *= norm;
}

interface Candidates {
  ids: number[];
  probs: number[];
}

/** Candidates with p >= threshold, sorted by descending probability (ties: lower id first). */
function candidatesAbove(probs: Float32Array, threshold: number): Candidates {
  const ids: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] >= threshold && probs[i] > 0) ids.push(i);
  ids.sort((a, b) => probs[b] - probs[a] || a - b);
  return { ids, probs: ids.map((i) => probs[i]) };
}

/** The k most likely tokens, sorted. */
function topKCandidates(probs: Float32Array, k: number): Candidates {
  if (k >= probs.length) return candidatesAbove(probs, 0);
  // Threshold search: lower the bar until at least k tokens pass, then keep the best k.
  let max = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > max) max = probs[i];
  let threshold = max * 1e-3;
  for (;;) {
    const c = candidatesAbove(probs, threshold);
    if (c.ids.length >= k || threshold === 0) return { ids: c.ids.slice(0, k), probs: c.probs.slice(0, k) };
    threshold = threshold < 1e-30 ? 0 : threshold * 1e-3;
  }
}

/**
 * The smallest prefix of the sorted distribution whose mass reaches topP. Exact: tokens below the
 * threshold are all less likely than every candidate, so once the candidates' mass reaches topP the
 * nucleus lies within them.
 */
function nucleus(probs: Float32Array, topP: number, within?: Candidates): Candidates {
  let c = within;
  if (!c) {
    let max = 0;
    for (let i = 0; i < probs.length; i++) if (probs[i] > max) max = probs[i];
    let threshold = max * 1e-2;
    for (;;) {
      c = candidatesAbove(probs, threshold);
      const mass = c.probs.reduce((a, b) => a + b, 0);
      if (mass >= topP || threshold === 0) break;
      threshold = threshold < 1e-30 ? 0 : threshold * 1e-2;
    }
  }
  let cumulative = 0;
  let n = 0;
  while (n < c.ids.length) {
    cumulative += c.probs[n];
    n += 1;
    if (cumulative >= topP) break;
  }
  return { ids: c.ids.slice(0, n), probs: c.probs.slice(0, n) };
}

function drawFrom(c: Candidates, rng: Rng): number {
  const total = c.probs.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < c.ids.length; i++) {
    u -= c.probs[i];
    if (u < 0) return c.ids[i];
  }
  return c.ids[c.ids.length - 1];
}

function drawFull(probs: Float32Array, rng: Rng): number {
  let u = rng.next();
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] > 0) last = i;
    u -= probs[i];
    if (u < 0) return i;
  }
  return last; // rounding left a sliver: the last token with mass
}

/**
 * Picks the next token; reads `logits` only. `scratch` is a reusable buffer of the vocabulary's size for the
 * probabilities (avoids allocating per token); greedy decoding (temperature 0) does not touch it.
 */
export function referenceSampleToken(logits: Float32Array, params: ValidSamplingParams, rng: Rng, scratch: Float32Array): number {
  if (params.temperature === 0) return argmax(logits);
  softmaxInto(logits, params.temperature, scratch);
  const probs = scratch;
  const truncating = params.topK > 0 || params.topP < 1 || params.minP > 0;
  if (!truncating) return drawFull(probs, rng);
  let c: Candidates | undefined = params.topK > 0 ? topKCandidates(probs, params.topK) : undefined;
  if (params.topP < 1) c = nucleus(probs, params.topP, c);
  if (params.minP > 0) {
    const base = c ?? candidatesAbove(probs, 0);
    const bar = params.minP * base.probs[0];
    const keep = base.probs.findIndex((p) => p < bar);
    c = keep < 0 ? base : { ids: base.ids.slice(0, Math.max(1, keep)), probs: base.probs.slice(0, Math.max(1, keep)) };
  }
  return drawFrom(c ?? candidatesAbove(probs, 0), rng);
}
