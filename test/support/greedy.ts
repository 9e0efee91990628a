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
