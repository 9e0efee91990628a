/**
 * What the engine computes over one row of logits besides the draw (sampler.ts):
 * - processors, each editing a copy of the row in place, in this order (`processLogits`): logit bias → repetition
 *   penalty (prompt + output tokens, CTRL / Hugging Face rule) → presence and frequency penalties (output tokens,
 *   OpenAI rule);
 * - the row kernels: argmax, a fast exp for the softmax, softmax;
 * - the log-probabilities reported to clients: log-softmax of the model's raw row (before penalties, bias,
 *   temperature and truncation — "raw" logprobs, as vLLM reports them by default).
 */
import type { ValidSamplingParams } from './params';

/** Token statistics a sequence keeps for the penalties. */
export interface TokenHistory {
  /** Every token seen (prompt and output), for the repetition penalty. */
  seen: Set<number>;
  /** Output token counts, for presence / frequency penalties. */
  outputCounts: Map<number, number>;
}

export function newTokenHistory(promptIds: ArrayLike<number>): TokenHistory {
  const seen = new Set<number>();
  for (let i = 0; i < promptIds.length; i++) seen.add(promptIds[i]);
  return { seen, outputCounts: new Map() };
}

export function recordToken(history: TokenHistory, token: number): void {
  history.seen.add(token);
  history.outputCounts.set(token, (history.outputCounts.get(token) ?? 0) + 1);
}

export function applyLogitBias(logits: Float32Array, bias: Map<number, number>): void {
  for (const [id, value] of bias) logits[id] += value;
}

/** Divides positive logits and multiplies negative ones by `penalty` for every token already seen. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Set<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of seen) {
    const v = logits[id];
    logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

/** logit -= presence * [count > 0] + frequency * count, over output tokens. */
export function applyPresenceFrequency(logits: Float32Array, counts: Map<number, number>, presence: number, frequency: number): void {
  if (presence === 0 && frequency === 0) return;
  for (const [id, count] of counts) logits[id] -= presence + frequency * count;
}

/** Whether processLogits would change anything (otherwise the model's row can be sampled as it is). */
export function changesLogits(params: ValidSamplingParams): boolean {
  return params.logitBias.size > 0 || params.repetitionPenalty !== 1 || params.presencePenalty !== 0 || params.frequencyPenalty !== 0;
}

let shared = new Float32Array(0);

/**
 * A copy of the model's row to process (the row itself stays as it is: logprobs are reported from it). One buffer
 * serves every sequence — rows are processed and sampled synchronously, one at a time.
 */
export function processingRow(row: Float32Array): Float32Array {
  if (shared.length !== row.length) shared = new Float32Array(row.length);
  shared.set(row);
  return shared;
}

export function processLogits(logits: Float32Array, params: ValidSamplingParams, history: TokenHistory): void {
  if (params.logitBias.size > 0) applyLogitBias(logits, params.logitBias);
  applyRepetitionPenalty(logits, history.seen, params.repetitionPenalty);
  applyPresenceFrequency(logits, history.outputCounts, params.presencePenalty, params.frequencyPenalty);
}

// exp(x) for x <= 0: x = (k / 64)·ln 2 + r with |r| <= ln2 / 128, exp(r) by a degree-5 polynomial, 2^(-k/64) from two
// tables. Relative error < 3e-14 against Math.exp (identical once rounded to float32), ~2.3× faster in V8.
const STEPS = 64;
const FRACTION = Float64Array.from({ length: STEPS }, (_, j) => 2 ** (-j / STEPS)); // 2^(-j/64)
const WHOLE = Float64Array.from({ length: 1076 }, (_, e) => 2 ** -e); // 2^-e
const TO_STEPS = STEPS / Math.LN2;
const STEP_HI = 0.010830424696223417; // ln2 / 64, split so that k·STEP_HI is exact
const STEP_LO = Math.LN2 / STEPS - STEP_HI;
const ROUND = 6755399441055744; // 1.5·2^52: adding and subtracting rounds to the nearest integer

/** exp(x) for x <= 0 (0 below -745, like Math.exp; NaN gives 0). */
export function expNonPositive(x: number): number {
  if (!(x > -708)) return x < -745.2 || x !== x ? 0 : Math.exp(x);
  const kk = x * TO_STEPS + ROUND - ROUND; // nearest integer, <= 0
  const r = x - kk * STEP_HI - kk * STEP_LO;
  const r2 = r * r;
  const p = 1 + r + r2 * (0.5 + r * (1 / 6)) + r2 * r2 * (1 / 24 + r * (1 / 120));
  const k = -kk;
  return p * WHOLE[k >> 6] * FRACTION[k & 63];
}

/** Index of the largest value (the lowest index wins a tie). One pass, no allocation. */
export function argmax(logits: Float32Array): number {
  const n = logits.length;
  let best = 0;
  let bestValue = logits[0];
  for (let i = 1; i < n; i++) {
    const v = logits[i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Softmax of logits / temperature into `probs` (same length). */
export function softmaxInto(logits: Float32Array, temperature: number, probs: Float32Array): void {
  const max = logits[argmax(logits)];
  const inv = 1 / temperature;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = expNonPositive((logits[i] - max) * inv);
    probs[i] = e;
    sum += e;
  }
  const norm = 1 / sum;
  for (let i = 0; i < probs.length; i++) probs[i] *= norm;
}

/** One entry of a row's most likely tokens. */
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
  return scanRow(logits, 0).lse;
}

/** The n largest entries, best first, ties to the lower id (n small: one pass against the n-th best's value). */
export function topN(logits: Float32Array, n: number): number[] {
  return scanRow(logits, n).ids;
}

export function rawLogprobs(raw: Float32Array, n: number): RawLogprobs {
  const { lse, ids } = scanRow(raw, n);
  return { lse, top: ids.map((tokenId) => ({ tokenId, logprob: raw[tokenId] - lse })) };
}

/** One pass over a row: its log-sum-exp and its n best ids (best first, ties to the lower id). */
function scanRow(row: Float32Array, n: number): { lse: number; ids: number[] } {
  const ids: number[] = [];
  let bar = n > 0 ? -Infinity : Infinity; // the n-th best so far once n are held (nothing enters when n = 0)
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (v > max) {
      sum *= expNonPositive(max - v);
      max = v;
    }
    sum += expNonPositive(v - max);
    if (v > bar || (ids.length < n && v === v)) bar = insertTop(row, ids, i, n);
  }
  return { lse: max > -Infinity ? max + Math.log(sum) : max, ids };
}

/** Inserts id i into the sorted top list (at most n); returns the new bar (the n-th best's value, or -Infinity). */
function insertTop(row: Float32Array, ids: number[], i: number, n: number): number {
  const v = row[i];
  let j = ids.length < n ? ids.length : n - 1;
  if (ids.length < n) ids.push(i);
  while (j > 0 && row[ids[j - 1]] < v) {
    ids[j] = ids[j - 1];
    j -= 1;
  }
  ids[j] = i;
  return ids.length === n ? row[ids[n - 1]] : -Infinity;
}
