/**
 * Server-sent events over a raw Node response: `data: <json>\n\n`, then `data: [DONE]`. Writes honour backpressure:
 * when the socket's buffer is full (the client does not read), the followed source is paused until 'drain', so the
 * gateway holds about one buffer per stream instead of the whole output. And the end of every streamed response:
 * errors in OpenAI's shape, before the first event (as JSON) or after it (as a last event).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { asFleetError, toOpenAIError } from '../../common/errors';
import type { FanOutResult } from '../generation/fan-out';

export interface Flow {
  pause(): void;
  resume(): void;
}

export class SseWriter {
  private started = false;
  private flow: Flow | undefined;
  private paused = false;

  constructor(private readonly res: ServerResponse) {}

  start(headers: Record<string, string> = {}): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    // The headers and the first events (role, first token) leave in one write: one segment, one wake-up of the client.
    this.res.cork();
    process.nextTick(() => this.res.uncork());
    this.res.flushHeaders();
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** The source of the events (the fan-out of worker streams), paused while the client is not reading. */
  follow(flow: Flow): void {
    this.flow = flow;
  }

  /** Bytes written but not yet taken by the client's socket. */
  get buffered(): number {
    return this.res.writableLength;
  }

  /** One event per payload, all in one write. */
  send(...payloads: unknown[]): void {
    this.start();
    let text = '';
    for (const payload of payloads) text += `data: ${JSON.stringify(payload)}\n\n`;
    const ok = this.res.write(text);
    if (!ok && this.flow && !this.paused) {
      this.paused = true;
      this.flow.pause();
      this.res.once('drain', () => {
        this.paused = false;
        this.flow?.resume();
      });
    }
  }

  done(): void {
    this.start();
    this.res.end('data: [DONE]\n\n');
  }
}

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
