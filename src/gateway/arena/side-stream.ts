/**
 * One side of a battle answering: an OpenAI chat-completions stream (the same SSE chunks as /v1/chat/completions)
 * whose model is the side's hidden model. Chunks and errors name the side (`model_a` / `model_b`), never the model,
 * so an anonymous battle stays anonymous in the browser's network log too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { FleetError, asFleetError } from '../../common/errors';
import type { ArenaBattle } from '../../arena/store';
import type { GatewayContext } from '../context';
import { fanOut, finishReasonOf } from '../generation/fan-out';
import { chatGenerateRequests, checkGenerationModel } from '../generation/requests';
import { asBody, invalid } from '../openai/fields';
import { sendStreamError } from '../openai/respond';
import { SseWriter } from '../openai/sse';
import { validateChatRequest, type ValidChatRequest } from '../openai/validate';
import type { Side } from './requests';

export interface SideRequest {
  battle: ArenaBattle;
  side: Side;
  body: unknown;
}

/** Validates an OpenAI chat body for one side: no `model` (the battle decides), one choice, streamed. */
export function validateSideRequest(request: SideRequest): ValidChatRequest {
  const body = asBody(request.body);
  if (body.model !== undefined) throw invalid('model', 'is chosen by the battle; leave it out');
  if (body.stream === false) throw invalid('stream', 'a battle side always streams');
  const valid = validateChatRequest({ ...body, stream: true, model: request.side === 'a' ? request.battle.modelA : request.battle.modelB });
  if (valid.n !== 1) throw invalid('n', 'a battle side answers with one choice');
  return valid;
}

/** Replaces the battle's model names in an error message by the side names. */
export function maskModels(err: unknown, battle: ArenaBattle): FleetError {
  const fe = asFleetError(err);
  const message = fe.message.split(battle.modelA).join('model_a').split(battle.modelB).join('model_b');
  return message === fe.message ? fe : new FleetError(fe.kind, message, { param: fe.param, code: fe.code, retryAfterS: fe.retryAfterS });
}

export async function streamSide(ctx: GatewayContext, request: SideRequest, reply: FastifyReply): Promise<void> {
  const valid = validateSideRequest(request);
  try {
    checkGenerationModel(ctx, valid.model);
  } catch (err) {
    throw maskModels(err, request.battle);
  }
  const id = `chatcmpl-${randomUUID()}`;
  const base = { id, object: 'chat.completion.chunk' as const, created: Math.floor(Date.now() / 1000), model: `model_${request.side}`, system_fingerprint: 'fleetchat' };
  const sse = new SseWriter(reply.raw);
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  reply.hijack();
  const run = fanOut(ctx.generate, chatGenerateRequests(valid, id), {
    onChunk: (_index, chunk) => {
      if (!sse.isStarted) sse.send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      const finish = finishReasonOf(chunk.finishReason);
      if (chunk.text !== '' || finish) sse.send({ ...base, choices: [{ index: 0, delta: chunk.text !== '' ? { content: chunk.text } : {}, logprobs: null, finish_reason: finish }] });
      if (chunk.usage) {
        usage.prompt_tokens = chunk.usage.promptTokens;
        usage.completion_tokens += chunk.usage.completionTokens;
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      }
    },
  });
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) run.cancel();
  });
  try {
    await run.done;
  } catch (err) {
    sendStreamError(reply, sse, maskModels(err, request.battle));
    return;
  }
  ctx.metrics.tokens('chat', usage.completion_tokens);
  if (valid.includeUsage) sse.send({ ...base, choices: [], usage });
  sse.done();
}
