/** POST /v1/completions — raw prompts, echo, logprobs (with prompt logprobs when echoing), n, streaming. */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FinishReason, type GenerateResponse } from '../../common/gen/worker';
import type { GatewayContext } from '../context';
import { checkGenerationModel, completionGenerateRequests, fanOut, finishReasonOf } from '../generation/fan-out';
import { appendCompletionLogprobs, emptyCompletionLogprobs } from './logprobs';
import { finishStream, SseWriter } from './sse';
import { validateCompletionRequest, type ValidCompletionRequest } from './validate';
import type { WireCompletion, WireCompletionChoice, WireCompletionLogprobs } from './wire';

const FINGERPRINT = 'fleetchat';

/** The text and logprobs one worker chunk contributes to a choice (echoed prompt first). */
function piece(valid: ValidCompletionRequest, chunk: GenerateResponse, offset: number): { text: string; logprobs: WireCompletionLogprobs | null; offset: number } {
  let text = '';
  let at = offset;
  const lp = valid.logprobs !== undefined ? emptyCompletionLogprobs() : null;
  if (valid.echo && chunk.promptText !== '') {
    text += chunk.promptText;
    if (lp) at = appendCompletionLogprobs(lp, chunk.promptLogprobs, at, true);
    else at += chunk.promptText.length;
  }
  text += chunk.text;
  if (lp) at = appendCompletionLogprobs(lp, chunk.logprobs, at);
  else at += chunk.text.length;
  return { text, logprobs: lp, offset: at };
}

function mergeLogprobs(target: WireCompletionLogprobs, add: WireCompletionLogprobs): void {
  target.tokens.push(...add.tokens);
  target.token_logprobs.push(...add.token_logprobs);
  target.top_logprobs.push(...add.top_logprobs);
  target.text_offset.push(...add.text_offset);
}

export async function handleCompletion(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const valid = validateCompletionRequest(request.body, ctx.limits);
  checkGenerationModel(ctx, valid.model);
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const offsets = new Array<number>(valid.n).fill(0);
  const base = { id, object: 'text_completion' as const, created, model: valid.model, system_fingerprint: FINGERPRINT };
  if (valid.stream) {
    const sse = new SseWriter(reply.raw);
    reply.hijack();
    const run = fanOut(ctx.generate, completionGenerateRequests(valid, id), {
      // The worker took the request (an adapter: its engine answered): the response headers go now, not with the first token.
      onAccepted: () => sse.start(),
      onChunk: (index, chunk) => {
        const p = piece(valid, chunk, offsets[index]);
        offsets[index] = p.offset;
        const finish = finishReasonOf(chunk.finishReason);
        if (p.text === '' && !finish && (p.logprobs?.tokens.length ?? 0) === 0) return;
        const body: WireCompletion = { ...base, choices: [{ index, text: p.text, logprobs: p.logprobs, finish_reason: finish }], ...(valid.includeUsage ? { usage: null } : {}) };
        sse.send(body);
      },
    });
    await finishStream(reply, sse, run, () => {
      ctx.metrics.tokens('completions', run.usage.completion_tokens);
      return valid.includeUsage ? { ...base, choices: [], usage: run.usage } : undefined;
    });
    return;
  }
  const choices: WireCompletionChoice[] = Array.from({ length: valid.n }, (_, index) => ({
    index,
    text: '',
    logprobs: valid.logprobs !== undefined ? emptyCompletionLogprobs() : null,
    finish_reason: null,
  }));
  const run = fanOut(ctx.generate, completionGenerateRequests(valid, id), {
    onChunk: (index, chunk) => {
      const p = piece(valid, chunk, offsets[index]);
      offsets[index] = p.offset;
      const choice = choices[index];
      choice.text += p.text;
      if (choice.logprobs && p.logprobs) mergeLogprobs(choice.logprobs, p.logprobs);
      if (chunk.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) choice.finish_reason = finishReasonOf(chunk.finishReason);
    },
  });
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) run.cancel();
  });
  await run.done;
  ctx.metrics.tokens('completions', run.usage.completion_tokens);
  await reply.send({ ...base, choices, usage: run.usage });
}
