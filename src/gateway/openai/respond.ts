/** Error responses in OpenAI's shape, before or during a stream. */
import type { FastifyReply } from 'fastify';
import { asFleetError, toOpenAIError } from '../../common/errors';
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
