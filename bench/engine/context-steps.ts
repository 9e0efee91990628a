/**
 * bench:engine's step-time-vs-context table: one stream (batch 1), greedy, a prompt of exactly N tokens, then
 * STEPS + 1 new tokens; the decode step is (time from the first token to the last) / STEPS — what a user sees per
 * token, sampling included — median over runs, the context lengths alternating within each run so load changes on
 * the machine hit them alike. A graph that copies its whole KV cache every step slows down as N grows; one that
 * writes the cache in place pays only attention's own cost (the goal: 2,000 cached tokens within 1.5x of 100).
 */
import { FinishReason } from '../../src/common/gen/worker';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';

export const CONTEXT_STEPS = 16;

/** `length` valid token ids: `seed` repeated (the text does not matter for timing). */
export function idsOfLength(seed: readonly number[], length: number): number[] {
  const out: number[] = [];
  while (out.length < length) out.push(...seed);
  return out.slice(0, length);
}

function decodeStepMs(rt: GenerationRuntime, ids: number[]): Promise<number> {
  const params = resolveSamplingParams([{ temperature: 0, maxTokens: CONTEXT_STEPS + 1, ignoreEos: true }], rt.info.vocabSize);
  let first = 0;
  let tokens = 0;
  return new Promise((resolve, reject) => {
    rt.engine.submit({
      promptIds: ids,
      params,
      onChunk: (c) => {
        if (c.tokenIds.length > 0 && first === 0) first = performance.now();
        tokens += c.tokenIds.length;
        if (c.finishReason === FinishReason.FINISH_REASON_ERROR) reject(new Error(c.error ?? 'generation failed'));
        else if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve((performance.now() - first) / (tokens - 1));
      },
    });
  });
}

/** Median decode step (ms) at each context length (a context + CONTEXT_STEPS + 1 must fit the model). */
export async function contextStepTimes(rt: GenerationRuntime, seed: readonly number[], contexts: readonly number[], runs: number): Promise<number[]> {
  await decodeStepMs(rt, idsOfLength(seed, contexts[0])); // warm-up
  const samples: number[][] = contexts.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [i, n] of contexts.entries()) samples[i].push(await decodeStepMs(rt, idsOfLength(seed, n)));
  }
  return samples.map((s) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}
