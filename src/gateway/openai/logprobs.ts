/** Worker logprobs → OpenAI's chat (`logprobs.content`) and completions (`tokens`, `token_logprobs`, ...) shapes. */
import type { TokenLogprob } from '../../common/gen/worker';
import type { WireCompletionLogprobs, WireLogprobContent } from './wire';

export function chatLogprobs(items: TokenLogprob[]): WireLogprobContent[] {
  return items.map((l) => ({
    token: l.token,
    logprob: l.logprob,
    bytes: Array.from(l.bytes),
    top_logprobs: l.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: Array.from(t.bytes) })),
  }));
}

/** Appends logprobs to a completions logprobs object; `offset` is the text offset of the first token. */
export function appendCompletionLogprobs(target: WireCompletionLogprobs, items: TokenLogprob[], offset: number, firstIsNull = false): number {
  let at = offset;
  items.forEach((l, i) => {
    const isNull = firstIsNull && i === 0;
    target.tokens.push(l.token);
    target.token_logprobs.push(isNull ? null : l.logprob);
    target.top_logprobs.push(isNull ? null : Object.fromEntries(l.top.map((t) => [t.token, t.logprob])));
    target.text_offset.push(at);
    at += l.token.length;
  });
  return at;
}

export function emptyCompletionLogprobs(): WireCompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}
