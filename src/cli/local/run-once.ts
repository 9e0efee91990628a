/** One generation on a local runtime, streamed to a callback: the core of `generate` and `chat`. */
import { FleetError } from '../../common/errors';
import { FinishReason, type ChatMessage } from '../../common/gen/worker';
import type { GenerationRuntime, PreparedPrompt } from '../../worker/runtime';
import { resolveSamplingParams, type SamplingLayer } from '../../worker/sampling/params';

export interface LocalResult {
  text: string;
  tokenIds: number[];
  finishReason: 'stop' | 'length' | 'cancelled';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function chatPrompt(runtime: GenerationRuntime, messages: Array<{ role: string; content: string }>): PreparedPrompt {
  const list: ChatMessage[] = messages.map((m) => ({ role: m.role, content: m.content, name: '', toolCallId: '', toolCallsJson: '' }));
  return runtime.prompts.fromChat({ messages: list, addGenerationPrompt: true, toolsJson: '', convTemplate: '', toolOptions: undefined });
}

export function generateOnce(runtime: GenerationRuntime, prompt: PreparedPrompt, layer: SamplingLayer, onText: (delta: string) => void, signal?: AbortSignal): Promise<LocalResult> {
  const base = resolveSamplingParams([...runtime.samplingLayers, layer], runtime.info.vocabSize);
  const params = { ...base, stop: [...new Set([...base.stop, ...prompt.stop])], stopTokenIds: [...new Set([...base.stopTokenIds, ...prompt.stopTokenIds])] };
  return new Promise((resolve, reject) => {
    const result: LocalResult = { text: '', tokenIds: [], finishReason: 'stop', usage: { prompt_tokens: prompt.ids.length, completion_tokens: 0, total_tokens: prompt.ids.length } };
    const handle = runtime.engine.submit({
      promptIds: prompt.ids,
      promptText: prompt.text,
      params,
      onChunk: (chunk) => {
        result.text += chunk.text;
        result.tokenIds.push(...chunk.tokenIds);
        if (chunk.text) onText(chunk.text);
        if (chunk.finishReason === FinishReason.FINISH_REASON_UNSPECIFIED) return;
        if (chunk.finishReason === FinishReason.FINISH_REASON_ERROR) {
          reject(new FleetError('generation_failed', chunk.error ?? 'generation failed'));
          return;
        }
        result.finishReason = chunk.finishReason === FinishReason.FINISH_REASON_LENGTH ? 'length' : chunk.finishReason === FinishReason.FINISH_REASON_CANCELLED ? 'cancelled' : 'stop';
        const completion = chunk.usage?.completionTokens ?? result.tokenIds.length;
        result.usage = { prompt_tokens: prompt.ids.length, completion_tokens: completion, total_tokens: prompt.ids.length + completion };
        resolve(result);
      },
    });
    signal?.addEventListener('abort', () => handle.cancel(), { once: true });
  });
}
