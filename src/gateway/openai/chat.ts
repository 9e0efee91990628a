/** POST /v1/chat/completions — streaming (SSE) and not, n choices, logprobs, exact usage. */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FinishReason } from '../../common/gen/worker';
import { hopClockMs, hopStamp } from '../../common/log';
import type { GatewayContext } from '../context';
import { chatGenerateRequests, checkGenerationModel, fanOut, finishReasonOf } from '../generation/fan-out';
import { chatLogprobs } from './logprobs';
import { validateChatRequest, type ValidChatRequest } from './validate';
import { finishStream, SseWriter } from './sse';
import { ToolCallAssembler, toolCallDeltas } from './tool-calls';
import type { WireChatChoice, WireChatChunk, WireChatCompletion, WireUsage } from './wire';

const FINGERPRINT = 'fleetchat';

/** A request with its arrival hop timestamp (set by the server's onRequest hook at debug level; src/common/log.ts). */
export type TracedRequest = FastifyRequest & { arrivedAt?: number };

export async function handleChat(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const valid = validateChatRequest(request.body, ctx.limits);
  checkGenerationModel(ctx, valid.model);
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (valid.stream) return streamChat(ctx, valid, { id, created }, reply, (request as TracedRequest).arrivedAt ?? 0);
  const choices: WireChatChoice[] = Array.from({ length: valid.n }, (_, index) => ({
    index,
    message: { role: 'assistant', content: '', refusal: null },
    logprobs: valid.logprobs ? { content: [] } : null,
    finish_reason: null,
  }));
  const calls = choices.map(() => new ToolCallAssembler());
  const run = fanOut(ctx.generate, chatGenerateRequests(valid, id), {
    onChunk: (index, chunk) => {
      const choice = choices[index];
      choice.message.content += chunk.text;
      calls[index].add(chunk.toolCalls);
      if (choice.logprobs) choice.logprobs.content.push(...chatLogprobs(chunk.logprobs));
      if (chunk.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) choice.finish_reason = finishReasonOf(chunk.finishReason);
    },
  });
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) run.cancel();
  });
  await run.done;
  choices.forEach((choice, i) => calls[i].finish(choice.message));
  ctx.metrics.tokens('chat', run.usage.completion_tokens);
  const body: WireChatCompletion = { id, object: 'chat.completion', created, model: valid.model, choices, usage: run.usage, system_fingerprint: FINGERPRINT };
  await reply.send(body);
}

async function streamChat(ctx: GatewayContext, valid: ValidChatRequest, ids: { id: string; created: number }, reply: FastifyReply, arrivedAt: number): Promise<void> {
  const sse = new SseWriter(reply.raw);
  const started = performance.now();
  const handlerAt = ctx.logger.isLevelEnabled('debug') ? hopClockMs() : 0;
  const base = { id: ids.id, object: 'chat.completion.chunk' as const, created: ids.created, model: valid.model, system_fingerprint: FINGERPRINT };
  const roleSent = new Array<boolean>(valid.n).fill(false);
  let hops: Record<string, number> | undefined;
  let answering = false;
  const chunkOf = (choices: WireChatChunk['choices'], usage?: WireUsage | null): WireChatChunk => ({ ...base, choices, ...(valid.includeUsage ? { usage: usage ?? null } : {}) });
  const roleOf = (index: number): WireChatChunk => {
    roleSent[index] = true;
    return chunkOf([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  };
  reply.hijack();
  const run = fanOut(ctx.generate, chatGenerateRequests(valid, ids.id), {
    // The worker took the request (an adapter: its engine answered): the response headers and every choice's role
    // event go now, while the engine works, as an OpenAI-compatible server sends them; the first token is then one
    // small event, and the client has its headers before it (as it has straight from the engine).
    onAccepted: () => {
      if (!sse.isStarted) sse.send(...roleSent.map((_, index) => roleOf(index)));
    },
    onChunk: (index, chunk) => {
      const first = !answering;
      answering = true;
      // A choice's first chunk, when no role event went before it: its role event and its first token leave in one write.
      const events: WireChatChunk[] = [];
      if (!roleSent[index]) events.push(roleOf(index));
      const finish = finishReasonOf(chunk.finishReason);
      if (chunk.text !== '' || chunk.logprobs.length > 0 || finish || chunk.toolCalls.length > 0) {
        const logprobs = valid.logprobs && chunk.logprobs.length > 0 ? { content: chatLogprobs(chunk.logprobs) } : null;
        const delta = { ...(chunk.text !== '' ? { content: chunk.text } : {}), ...(chunk.toolCalls.length > 0 ? { tool_calls: toolCallDeltas(chunk.toolCalls) } : {}) };
        events.push(chunkOf([{ index, delta, logprobs, finish_reason: finish }]));
      }
      if (events.length > 0) sse.send(...events);
      if (first) {
        // The first token leaves on this tick (or the next, when SseWriter corked the headers with it); the bookkeeping
        // waits until after that.
        const seconds = (performance.now() - started) / 1000;
        setImmediate(() => ctx.metrics.firstToken('chat', seconds));
        if (handlerAt > 0) hops = { ...(arrivedAt > 0 ? { arrived: hopStamp(arrivedAt) } : {}), handler: hopStamp(handlerAt), sent: hopStamp(hopClockMs()) };
      }
    },
  });
  await finishStream(reply, sse, run, () => {
    ctx.metrics.tokens('chat', run.usage.completion_tokens);
    return valid.includeUsage ? { ...base, choices: [], usage: run.usage } : undefined;
  });
  // Logged once the response is over (the log line is never on the path it measures).
  if (hops) ctx.logger.debug({ requestId: ids.id, hops }, 'first chunk sent');
}
