/** Error responses in OpenAI's shape, before or during a stream. */
import type { FastifyReply } from 'fastify';
import { asFleetError, toOpenAIError } from '../../common/errors';
import type { FanOutResult } from '../generation/fan-out';
import type { SseWriter } from './sse';

/** Sends an error: as a JSON response when nothing was streamed yet, else as a final SSE event. */
export function sendStreamError(reply: FastifyReply, sse: SseWriter, err: unknown): void {
  const fe = asFleetError(err);
  const res = reply.raw;
  if (res.destroyed || res.writableEnded) return;
  if (!sse.isStarted) {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (fe.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(fe.retryAfterS)));
    res.writeHead(fe.httpStatus, headers);
    res.end(JSON.stringify(toOpenAIError(fe)));
    return;
  }
  sse.send(toOpenAIError(fe));
  sse.done();
}

/**
 * The end of every streamed response: the client's disconnect cancels the generation, an error after the first
 * event is sent in-band, and a finished stream gets its last chunk (the usage chunk, when asked for) and [DONE].
 */
export async function finishStream(reply: FastifyReply, sse: SseWriter, run: FanOutResult, lastChunk: () => unknown): Promise<void> {
  sse.follow(run);
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) run.cancel();
  });
  try {
    await run.done;
  } catch (err) {
    sendStreamError(reply, sse, err);
    return;
  }
  const last = lastChunk();
  if (last !== undefined) sse.send(last);
  sse.done();
}
