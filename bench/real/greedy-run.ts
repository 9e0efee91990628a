/** One greedy generation of `maxTokens` tokens (EOS ignored) on a loaded runtime, timed from submit. */
import { FinishReason } from '../../src/common/gen/worker';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';

export interface Run {
  firstMs: number;
  totalMs: number;
  tokens: number;
  promptTokens: number;
}

export function greedyRun(rt: GenerationRuntime, ids: number[], maxTokens: number): Promise<Run> {
  const params = resolveSamplingParams([{ temperature: 0, maxTokens, ignoreEos: true }], rt.info.vocabSize);
  const t0 = performance.now();
  let first = 0;
  let tokens = 0;
  return new Promise((resolve, reject) => {
    rt.engine.submit({
      promptIds: ids,
      params,
      onChunk: (c) => {
        if (c.tokenIds.length > 0 && first === 0) first = performance.now();
        tokens += c.tokenIds.length;
        if (c.finishReason === FinishReason.FINISH_REASON_ERROR) reject(new Error(c.error));
        else if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve({ firstMs: first - t0, totalMs: performance.now() - t0, tokens, promptTokens: ids.length });
      },
    });
  });
}
