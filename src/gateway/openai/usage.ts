/**
 * Exact usage over the n choices of one request: prompt tokens once, completion tokens summed, cached prompt tokens
 * (prefix reuse on the worker) the most any choice had.
 */
import type { GenerateResponse } from '../../common/gen/worker';
import type { WireUsage } from './wire';

export function emptyUsage(): WireUsage {
  return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } };
}

/** Adds a worker's final usage (present on the last chunk of each choice). */
export function addUsage(usage: WireUsage, chunk: GenerateResponse): void {
  if (!chunk.usage) return;
  usage.prompt_tokens = chunk.usage.promptTokens;
  usage.completion_tokens += chunk.usage.completionTokens;
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.prompt_tokens_details.cached_tokens = Math.max(usage.prompt_tokens_details.cached_tokens, chunk.usage.cachedTokens);
}
