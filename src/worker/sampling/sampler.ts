/**
 * Token selection from one row of (processed, see logits.ts) logits: greedy at temperature 0, otherwise
 * softmax(logits / T), then top-k, top-p (nucleus) and min-p truncation, then one draw from a seedable PRNG over what
 * is left, renormalised.
 *
 * Cost per row (vocabulary V, the step's host work on every row, every token): greedy is one pass (argmax); top-k and
 * min-p alone never exponentiate the vocabulary (candidates are picked by logit, exp only over them); top-p and plain
 * temperature sampling need the softmax normaliser (one pass of `expNonPositive`); only candidates are sorted (as
 * packed float64 keys, natively). The distribution is exactly softmax's with the same truncation rules as before.
 */
import { randomInt } from 'node:crypto';
import { FleetError } from '../../common/errors';
import { argmax, expNonPositive } from './logits';
import type { ValidSamplingParams } from './params';

/**
 * A small, fast, seedable PRNG (xoshiro128**), seeded through splitmix32, so that a request with a seed samples the
 * same tokens whatever else runs in the batch. One `next()` per sampled token.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result / 2 ** 32;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A fresh random seed for requests that did not ask for one. */
export function randomSeed(): number {
  return randomInt(0, 2 ** 47);
}

/**
 * Reusable buffers (sampling is synchronous, so one set serves every sequence): candidates as packed keys
 * (descending logit, then ascending id, in one float64 — sorted natively), their ids and unnormalised
 * probabilities exp((l - max) / T), and a vocabulary-sized row of those for the untruncated draw.
 */
const ID_BITS = 2 ** 21; // vocabularies up to 2M ids: (32-bit order key)·2^21 + id stays below 2^53
let keys = new Float64Array(1024);
let ids = new Int32Array(1024);
let weights = new Float64Array(1024);
let fullWeights = new Float64Array(0);
let segmentStart = new Int32Array(0);
let segmentMax = new Float64Array(0);
const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);

/** A key that sorts ascending as (logit descending, id ascending). */
function keyOf(value: number, id: number): number {
  bitsF32[0] = value + 0; // -0 → +0
  const bits = bitsU32[0];
  const descending = bits >= 0x80000000 ? bits : 0x7fffffff - bits; // negative floats: larger bits = smaller value
  return descending * ID_BITS + id;
}

function ensureCandidates(n: number): void {
  if (keys.length >= n) return;
  const size = Math.max(n, keys.length * 2);
  keys = new Float64Array(size);
  ids = new Int32Array(size);
  weights = new Float64Array(size);
}

/** Sorts keys[0, count) and fills ids / weights for them; returns count. */
function finish(logits: Float32Array, count: number, max: number, inv: number): number {
  keys.subarray(0, count).sort();
  for (let i = 0; i < count; i++) {
    const id = keys[i] % ID_BITS;
    ids[i] = id;
    weights[i] = expNonPositive((logits[id] - max) * inv);
  }
  return count;
}

/** Moves the k smallest of keys[0, count) into keys[0, k), in no order (quickselect; k < count). */
function keepSmallest(count: number, k: number): void {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const pivot = keys[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[i] < pivot) i++;
      while (keys[j] > pivot) j--;
      if (i <= j) {
        const t = keys[i];
        keys[i++] = keys[j];
        keys[j--] = t;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

/** Every token with logit >= bar (and non-zero probability), sorted. */
function candidatesFrom(logits: Float32Array, bar: number, max: number, inv: number): number {
  let count = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v >= bar && v > -Infinity) {
      if (count === keys.length) ensureCandidates(count + 1);
      keys[count++] = keyOf(v, i);
    }
  }
  count = finish(logits, count, max, inv);
  while (count > 0 && weights[count - 1] === 0) count -= 1;
  return count;
}

/** Keeps the best k of `count` keys; returns the logit of the worst kept (later ids lose its ties: only larger enter). */
function cutToBest(logits: Float32Array, count: number, k: number): number {
  keepSmallest(count, k);
  let worst = keys[0];
  for (let j = 1; j < k; j++) if (keys[j] > worst) worst = keys[j];
  return logits[worst % ID_BITS];
}

/**
 * The k most likely tokens, sorted, and the row's largest logit: a running bar rises as a buffer of 2k candidates is
 * cut to its best k (quickselect), so most of the row costs one comparison — and no separate pass for the maximum.
 */
function topKCandidates(logits: Float32Array, k: number, inv: number): { count: number; max: number } {
  const cap = Math.max(2 * k, 256);
  ensureCandidates(cap);
  let bar = -Infinity;
  let count = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > bar) {
      keys[count++] = keyOf(v, i);
      if (count === cap) {
        count = k;
        bar = cutToBest(logits, cap, k);
      }
    }
  }
  if (count > k) keepSmallest(count, k);
  count = Math.min(count, k);
  if (count === 0) return { count: 0, max: -Infinity };
  keys.subarray(0, count).sort();
  const max = logits[keys[0] % ID_BITS];
  count = finish(logits, count, max, inv);
  while (count > 0 && weights[count - 1] === 0) count -= 1;
  return { count, max };
}

/** Sum of exp((l - max) / T) over the whole row: the softmax normaliser (in units of the best token's weight). */
function normaliser(logits: Float32Array, max: number, inv: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += expNonPositive((logits[i] - max) * inv);
  return sum;
}

/**
 * One pass for top-p without top-k: the row's maximum, the softmax normaliser (rescaled whenever the maximum rises —
 * the "online softmax") and the candidates within `drop` logits of the running maximum (a superset of those within
 * `drop` of the final one, cut after sorting). Returns the normaliser; the candidates are sorted, weighted, cut.
 */
function scanNucleus(logits: Float32Array, inv: number, drop: number): { z: number; max: number; count: number } {
  let max = -Infinity;
  let z = 0;
  let bar = -Infinity;
  let count = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > max) {
      z *= expNonPositive((max - v) * inv);
      max = v;
      bar = v - drop;
    }
    z += expNonPositive((v - max) * inv);
    if (v >= bar) {
      if (count === keys.length) ensureCandidates(count + 1);
      keys[count++] = keyOf(v, i);
    }
  }
  keys.subarray(0, count).sort();
  const last = keyOf(max - drop, ID_BITS - 1); // keys beyond it have logits below the final bar
  let keep = 0;
  while (keep < count && keys[keep] <= last) keep += 1;
  count = finish(logits, keep, max, inv);
  while (count > 0 && weights[count - 1] === 0) count -= 1;
  return { z, max, count };
}

/**
 * The smallest prefix of the sorted distribution whose mass reaches topP (of the whole row's). Within the top-k
 * candidates when there are (`topKCount`); otherwise candidates above a falling bar — exact, because every token below
 * the bar is less likely than every candidate, so once the candidates' mass reaches topP the nucleus lies within them.
 */
function nucleus(logits: Float32Array, topP: number, inv: number, within: { count: number; max: number } | undefined): number {
  const step = Math.log(100) / inv; // each round lowers the bar by a factor of 100 in probability
  const first = within ? { ...within, z: normaliser(logits, within.max, inv) } : scanNucleus(logits, inv, step);
  const target = topP * first.z;
  let count = first.count;
  if (!within) {
    const max = first.max;
    for (let bar = max - step; ; bar -= step) {
      let mass = 0;
      for (let i = 0; i < count; i++) mass += weights[i];
      const open = !(bar > -Infinity) || bar < max - 800 / inv; // below exp's range: every token was taken
      if (mass >= target || open) break;
      count = candidatesFrom(logits, bar - step < max - 800 / inv ? -Infinity : bar - step, max, inv);
    }
  }
  let cumulative = 0;
  for (let n = 0; n < count; n++) {
    cumulative += weights[n];
    if (cumulative >= target) return n + 1;
  }
  return count;
}

/** min_p: keeps the candidates at least minP times as likely as the best (at least one). */
function minPCut(logits: Float32Array, minP: number, max: number, inv: number, count: number | undefined): number {
  // A bar slightly below the exact one (a superset, filtered by weight below).
  const n = count ?? candidatesFrom(logits, max + Math.log(minP) / inv - 1e-3 / inv, max, inv);
  const bar = minP * weights[0];
  let keep = 1;
  while (keep < n && weights[keep] >= bar) keep += 1;
  return n === 0 ? 0 : keep;
}

function draw(count: number, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += weights[i];
  let u = rng.next() * total;
  for (let i = 0; i < count; i++) {
    u -= weights[i];
    if (u < 0) return ids[i];
  }
  return ids[count - 1];
}

/**
 * A draw from the whole softmax (no truncation) in one pass over the row: each token's weight is stored relative to
 * the running maximum (online softmax) — a new maximum opens a segment, whose weights the walk rescales by one factor
 * — then a walk in id order.
 */
function drawFull(logits: Float32Array, inv: number, rng: Rng): number {
  const n = logits.length;
  if (fullWeights.length < n) {
    fullWeights = new Float64Array(n);
    segmentStart = new Int32Array(n);
    segmentMax = new Float64Array(n);
  }
  const w = fullWeights;
  let max = -Infinity;
  let sum = 0;
  let segments = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i];
    if (v > max) {
      sum *= expNonPositive((max - v) * inv);
      max = v;
      segmentStart[segments] = i;
      segmentMax[segments++] = v;
    }
    const e = expNonPositive((v - max) * inv);
    w[i] = e;
    sum += e;
  }
  if (segments === 0) return 0; // every token masked: nothing to draw from (argmax's answer)
  let u = rng.next() * sum;
  let last = 0;
  for (let s = 0, i = 0; s < segments; s++) {
    const end = s + 1 < segments ? segmentStart[s + 1] : n;
    const scale = expNonPositive((segmentMax[s] - max) * inv);
    for (; i < end; i++) {
      const weight = w[i] * scale;
      if (weight > 0) last = i;
      u -= weight;
      if (u < 0) return i;
    }
  }
  return last; // rounding left a sliver: the last token with mass
}

/** Picks the next token; reads `logits` only, allocates nothing per call once the buffers have grown. */
export function sampleToken(logits: Float32Array, params: ValidSamplingParams, rng: Rng): number {
  if (logits.length > ID_BITS) throw new FleetError('internal', `vocabulary of ${logits.length} tokens: the sampler packs token ids in 21 bits`);
  const { temperature, topK, topP, minP } = params;
  if (temperature === 0) return argmax(logits);
  const inv = 1 / temperature;
  let count: number | undefined;
  let max: number;
  if (topK > 0) {
    const top = topKCandidates(logits, topK, inv); // finds the maximum on the way
    if (top.count === 0) return 0; // every token masked: nothing to draw from (argmax's answer)
    max = top.max;
    count = topP < 1 ? nucleus(logits, topP, inv, top) : top.count;
  } else if (topP < 1) {
    count = nucleus(logits, topP, inv, undefined);
    if (count === 0) return argmax(logits);
    max = logits[ids[0]];
  } else if (minP <= 0) {
    return drawFull(logits, inv, rng);
  } else {
    const best = argmax(logits);
    max = logits[best];
    if (!(max > -Infinity)) return best;
  }
  if (minP > 0) count = minPCut(logits, minP, max, inv, count);
  return count ? draw(count, rng) : argmax(logits);
}
