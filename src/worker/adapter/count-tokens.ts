/**
 * CountTokens answered by the upstream where it can: vLLM and SGLang's POST /tokenize (prompt or chat messages,
 * with max_model_len), llama-cpp-python's /extras/tokenize/count and llama-server's /tokenize (prompts only).
 * Anything else is said to be unknown (UNIMPLEMENTED), never guessed.
 */
import { FleetError } from '../../common/errors';
import type { CountTokensRequest, CountTokensResponse } from '../../common/gen/worker';
import type { Dialect } from './dialects';
import type { Upstream } from './upstream';

const TIMEOUT_MS = 10_000;

function unknown(why: string): FleetError {
  return new FleetError('unimplemented', `token count unknown: ${why}`, { code: 'token_count_unknown' });
}

function chatMessages(req: CountTokensRequest): Array<{ role: string; content: string }> {
  return (req.chat?.messages ?? []).map((m) => ({ role: m.role, content: m.content }));
}

export async function countUpstreamTokens(upstream: Upstream, dialect: Dialect, model: string, req: CountTokensRequest, contextLength: number): Promise<CountTokensResponse> {
  if ((req.prompt !== '') === (req.chat !== undefined)) throw new FleetError('invalid_request', 'exactly one of prompt or chat must be set', { param: 'prompt' });
  if (dialect.tokenize === 'vllm') {
    const body = req.chat !== undefined ? { model, messages: chatMessages(req), add_generation_prompt: true } : { model, prompt: req.prompt };
    const res = (await upstream.postJson('/tokenize', body, TIMEOUT_MS)) as { count?: number; max_model_len?: number } | undefined;
    if (typeof res?.count === 'number') return { tokenCount: res.count, contextLength: res.max_model_len ?? contextLength };
    throw unknown(`${upstream.label}/tokenize did not answer`);
  }
  if (dialect.tokenize === 'llamacpp') {
    if (req.chat !== undefined) throw unknown(`the ${dialect.api} server does not tokenize chat messages`);
    const py = (await upstream.postJson('/extras/tokenize/count', { input: req.prompt, model }, TIMEOUT_MS)) as { count?: number } | undefined;
    if (typeof py?.count === 'number') return { tokenCount: py.count, contextLength };
    const native = (await upstream.postJson('/tokenize', { content: req.prompt }, TIMEOUT_MS)) as { tokens?: unknown[] } | undefined;
    if (Array.isArray(native?.tokens)) return { tokenCount: native.tokens.length, contextLength };
    throw unknown(`${upstream.label} has no tokenize endpoint`);
  }
  throw unknown(`the ${dialect.api} API has no tokenize endpoint`);
}
