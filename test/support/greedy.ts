/** Generations straight through a loaded runtime's engine (no server): the token ids (and logprobs) of a completion. */
import { FinishReason } from '../../src/common/gen/worker';
import type { ChunkLogprob } from '../../src/worker/engine/sequence';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams, type SamplingLayer } from '../../src/worker/sampling/params';

/** `prompt`'s completion of `maxTokens` tokens (end of sequence ignored) under the sampling `layer`. */
export function completion(rt: GenerationRuntime, prompt: string, maxTokens: number, layer: SamplingLayer): Promise<{ ids: number[]; logprobs: ChunkLogprob[] }> {
  return new Promise((resolve) => {
    const p = rt.prompts.fromText(prompt);
    const ids: number[] = [];
    const logprobs: ChunkLogprob[] = [];
    rt.engine.submit({
      promptIds: p.ids,
      promptText: p.text,
      params: resolveSamplingParams([...rt.samplingLayers, { ...layer, maxTokens, ignoreEos: true }], rt.info.vocabSize),
      onChunk: (c) => {
        ids.push(...c.tokenIds);
        logprobs.push(...c.logprobs);
        if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve({ ids, logprobs });
      },
    });
  });
}

export async function greedyTokens(rt: GenerationRuntime, prompt: string, maxTokens: number): Promise<number[]> {
  return (await completion(rt, prompt, maxTokens, { temperature: 0 })).ids;
}

/**
 * Four requests at once — greedy, seeded sampling, greedy with logprobs, greedy with a repetition penalty — on
 * `expected`'s runtime and on each of `others`: the same tokens everywhere and the same logprobs (a pass that leaves
 * greedy rows' logits on the device must still hand every row that needs them its own).
 */
export async function expectMixedBatchLike(expectedRt: GenerationRuntime, others: GenerationRuntime[], prompts: string[], lengths: number[]): Promise<void> {
  const layers: SamplingLayer[] = [{ temperature: 0 }, { temperature: 0.8, seed: 7 }, { temperature: 0, topLogprobs: 2 }, { temperature: 0, repetitionPenalty: 1.3 }];
  const run = (rt: GenerationRuntime): Promise<Array<{ ids: number[]; logprobs: ChunkLogprob[] }>> => Promise.all(layers.map((layer, i) => completion(rt, prompts[i], lengths[i], layer)));
  const expected = await run(expectedRt);
  expect(expected[2].logprobs).toHaveLength(lengths[2]);
  for (const rt of others) {
    const got = await run(rt);
    expect(got.map((g) => g.ids)).toEqual(expected.map((e) => e.ids));
    got[2].logprobs.forEach((lp, k) => {
      expect(lp.tokenId).toBe(expected[2].logprobs[k].tokenId);
      expect(lp.logprob).toBeCloseTo(expected[2].logprobs[k].logprob, 4);
    });
  }
}
