/**
 * Logits processors: each edits one row of logits in place. Applied in this order by `processLogits`:
 * logit bias → repetition penalty (prompt + output tokens, CTRL / Hugging Face rule) →
 * presence and frequency penalties (output tokens, OpenAI rule).
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
