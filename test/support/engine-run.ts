/** One request straight to a runtime's engine, collected until its finish chunk. */
import { FinishReason } from '../../src/common/gen/worker';
import type { SequenceHandle } from '../../src/worker/engine/engine-types';
import type { EngineChunk } from '../../src/worker/engine/sequence';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams, type SamplingLayer } from '../../src/worker/sampling/params';

export interface Collected {
  text: string;
  ids: number[];
  chunks: EngineChunk[];
  finish: FinishReason;
  /** Prompt tokens the prefix cache supplied (the last usage seen). */
  cached: number;
}

/** Submits `prompt` with `layer` over the runtime's sampling layers; `onChunk` sees each chunk first (with the handle, to cancel it). */
export function runRequest(rt: GenerationRuntime, prompt: string, layer: SamplingLayer, onChunk?: (c: EngineChunk, handle: SequenceHandle) => void): Promise<Collected> {
  return new Promise((resolve) => {
    const p = rt.prompts.fromText(prompt);
    const out: Collected = { text: '', ids: [], chunks: [], finish: FinishReason.FINISH_REASON_UNSPECIFIED, cached: 0 };
    const handle: SequenceHandle = rt.engine.submit({
      promptIds: p.ids,
      promptText: p.text,
      params: resolveSamplingParams([...rt.samplingLayers, layer], rt.info.vocabSize),
      onChunk: (c) => {
        onChunk?.(c, handle);
        out.chunks.push(c);
        out.text += c.text;
        out.ids.push(...c.tokenIds);
        if (c.usage) out.cached = c.usage.cachedTokens;
        if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) {
          out.finish = c.finishReason;
          resolve(out);
        }
      },
    });
  });
}
