/**
 * A model answering a stored arena conversation: an OpenAI chat-completions stream (the same SSE chunks as
 * /v1/chat/completions) generated from the transcript the server keeps. The answer is appended to the store when
 * the stream finishes — with its finish reason and token counts — before the final `[DONE]`, so a client that saw
 * the end may vote at once; a client that leaves mid-answer gets the partial text recorded as `cancelled`. For a
 * battle side, chunks and errors name the side (`model_a` / `model_b`), never the model, so an anonymous battle
 * stays anonymous in the browser's network log too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { FleetError, asFleetError } from '../../common/errors';
import type { ArenaBattle, ArenaConversation, ArenaMessage, ArenaStore, RecordedAnswer } from '../../arena/store';
import { answered } from '../../arena/transcript';
import type { RequestLimits } from '../../common/request-limits';
import type { GatewayContext } from '../context';
import { chatGenerateRequests, checkGenerationModel, fanOut, finishReasonOf } from '../generation/fan-out';
import { asBody, invalid, optBool, type Body } from '../openai/fields';
import { sendStreamError, SseWriter } from '../openai/sse';
import { validateChatRequest, type ValidChatRequest } from '../openai/validate';

/** What a client may send besides sampling parameters: the new user message, or a regenerate request. */
export interface AnswerBody {
  message?: string;
  regenerate: boolean;
  /** The OpenAI sampling fields (temperature, max_tokens, stream_options, …). */
  rest: Body;
}

export function readAnswerBody(raw: unknown, allowMessage: boolean): AnswerBody {
  const { message, regenerate, ...rest } = asBody(raw ?? {});
  if (rest.messages !== undefined) {
    throw new FleetError('invalid_request', 'the server keeps the transcript: send only the new user message as `message`', { param: 'messages', code: 'client_transcript_refused' });
  }
  if (rest.model !== undefined) throw invalid('model', 'is chosen by the conversation or battle; leave it out');
  if (rest.stream === false) throw invalid('stream', 'an arena answer always streams');
  if (message !== undefined && !allowMessage) throw invalid('message', 'a battle side answers the battle\'s last message: send it to POST /arena/battles/{id}/messages');
  if (message !== undefined && typeof message !== 'string') throw invalid('message', 'must be a string');
  const wantsRegenerate = optBool({ regenerate }, 'regenerate') ?? false;
  if (wantsRegenerate && message !== undefined) throw invalid('regenerate', 'cannot come with a new message');
  return { message, regenerate: wantsRegenerate, rest };
}

/** The messages a model answers: the transcript, without its last answer when regenerating. */
export function promptOf(messages: readonly ArenaMessage[], regenerate: boolean): Array<{ role: string; content: string }> {
  const prompt = regenerate && answered(messages) ? messages.slice(0, -1) : messages;
  if (prompt.length === 0 || prompt[prompt.length - 1].role !== 'user') {
    throw new FleetError('conflict', 'there is no user message to answer: send one first', { param: 'message', code: 'nothing_to_answer' });
  }
  return prompt.map((m) => ({ role: m.role, content: m.content }));
}

export function validateAnswer(body: AnswerBody, model: string, messages: readonly ArenaMessage[], limits: RequestLimits): ValidChatRequest {
  const valid = validateChatRequest({ ...body.rest, model, stream: true, messages: promptOf(messages, body.regenerate) }, limits);
  if (valid.n !== 1) throw invalid('n', 'an arena answer has one choice');
  return valid;
}

/** Replaces the battle's model names in an error message by the side names. */
export function maskModels(err: unknown, battle: ArenaBattle | undefined): FleetError {
  const fe = asFleetError(err);
  if (battle === undefined || !battle.anony) return fe;
  const message = fe.message.split(battle.modelA).join('model_a').split(battle.modelB).join('model_b');
  return message === fe.message ? fe : new FleetError(fe.kind, message, { param: fe.param, code: fe.code, retryAfterS: fe.retryAfterS });
}

export interface AnswerJob {
  store: ArenaStore;
  conversation: ArenaConversation;
  valid: ValidChatRequest;
  regenerate: boolean;
  /** Set for a battle side: names are masked when the battle is anonymous. */
  battle?: ArenaBattle;
}

/** Conversations being answered by this process (a second concurrent answer is refused). */
const answering = new Set<string>();

export async function streamAnswer(ctx: GatewayContext, job: AnswerJob, reply: FastifyReply): Promise<void> {
  const { conversation, valid, battle } = job;
  try {
    checkGenerationModel(ctx, valid.model);
  } catch (err) {
    throw maskModels(err, battle);
  }
  if (answering.has(conversation.id)) throw new FleetError('conflict', 'this conversation is already being answered', { code: 'answer_in_progress' });
  answering.add(conversation.id);
  try {
    await run(ctx, job, reply);
  } finally {
    answering.delete(conversation.id);
  }
}

async function run(ctx: GatewayContext, job: AnswerJob, reply: FastifyReply): Promise<void> {
  const { valid, battle } = job;
  const id = `chatcmpl-${randomUUID()}`;
  const shownModel = battle?.anony ? `model_${job.conversation.side}` : valid.model;
  const base = { id, object: 'chat.completion.chunk' as const, created: Math.floor(Date.now() / 1000), model: shownModel, system_fingerprint: 'fleetchat' };
  const sse = new SseWriter(reply.raw);
  let text = '';
  let finish = 'stop';
  reply.hijack();
  const role = (): void => {
    if (!sse.isStarted) sse.send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  };
  const generation = fanOut(ctx.generate, chatGenerateRequests(valid, id), {
    // The worker took the request: the answer's stream opens now (as in the OpenAI route), not with its first token.
    onAccepted: role,
    onChunk: (_index, chunk) => {
      role();
      const reason = finishReasonOf(chunk.finishReason);
      if (reason) finish = reason;
      text += chunk.text;
      if (chunk.text !== '' || reason) sse.send({ ...base, choices: [{ index: 0, delta: chunk.text !== '' ? { content: chunk.text } : {}, logprobs: null, finish_reason: reason }] });
    },
  });
  sse.follow(generation);
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) generation.cancel();
  });
  const record = (finishReason: string): Promise<unknown> => job.store.appendAnswer({
    conversationId: job.conversation.id,
    answer: { content: text, finishReason, promptTokens: generation.usage.prompt_tokens, completionTokens: generation.usage.completion_tokens } satisfies RecordedAnswer,
    replaceLast: job.regenerate,
  });
  try {
    await generation.done;
  } catch (err) {
    const fe = asFleetError(err);
    if (fe.kind === 'cancelled') {
      await record('cancelled').catch((e: unknown) => ctx.logger.warn({ err: e, conversation: job.conversation.id }, 'partial arena answer not recorded'));
      return;
    }
    sendStreamError(reply, sse, maskModels(fe, battle));
    return;
  }
  try {
    await record(finish);
  } catch (err) {
    sendStreamError(reply, sse, maskModels(err, battle));
    return;
  }
  ctx.metrics.tokens('chat', generation.usage.completion_tokens);
  if (valid.includeUsage) sse.send({ ...base, choices: [], usage: generation.usage });
  sse.done();
}
