/** A greedy generation straight through a loaded runtime's engine (no server): the token ids of `prompt`'s completion. */
import { FinishReason } from '../../src/common/gen/worker';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';

export function greedyTokens(rt: GenerationRuntime, prompt: string, maxTokens: number): Promise<number[]> {
  return new Promise((resolve) => {
    const p = rt.prompts.fromText(prompt);
    const ids: number[] = [];
    rt.engine.submit({
      promptIds: p.ids,
      promptText: p.text,
      params: resolveSamplingParams([...rt.samplingLayers, { temperature: 0, maxTokens, ignoreEos: true }], rt.info.vocabSize),
      onChunk: (c) => {
        ids.push(...c.tokenIds);
        if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve(ids);
      },
    });
  });
}
