/** Reading an upstream's HTTP answer: server-sent events as JSON chunks, and failures as typed errors. */
import type { IncomingMessage } from 'node:http';

/** The server answered with a non-200 status. */
export class UpstreamHttpError extends Error {
  constructor(readonly status: number, readonly retryAfter: string | undefined, message: string) {
    super(message);
    this.name = 'UpstreamHttpError';
  }

  /** Reads the error body (OpenAI's `{error: {message}}`, FastAPI's `{detail}`, or text; at most 64 KiB). */
  static async from(res: IncomingMessage): Promise<UpstreamHttpError> {
    let text = '';
    res.setEncoding('utf8');
    for await (const chunk of res) {
      if (text.length < 65_536) text += chunk as string;
    }
    let message = text.trim().slice(0, 2000) || `HTTP ${res.statusCode}`;
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown };
      const m = typeof body.error === 'object' ? body.error?.message : body.error ?? body.message ?? body.detail;
      if (typeof m === 'string') message = m;
      else if (m !== undefined) message = JSON.stringify(m);
    } catch {
      // not JSON: the text itself
    }
    const retry: string | string[] | undefined = res.headers['retry-after'];
    return new UpstreamHttpError(res.statusCode ?? 0, typeof retry === 'string' ? retry : retry?.[0], message);
  }
}

/** The server could not be reached, or dropped the connection mid-answer. */
export class UpstreamConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamConnectionError';
  }
}

/** The JSON payloads of one SSE event's `data:` lines; `done` once `[DONE]` is seen. */
function eventData(event: string): { payloads: string[]; done: boolean } {
  const payloads: string[] = [];
  for (const raw of event.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith('data:')) continue;
    const data = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
    if (data === '[DONE]') return { payloads, done: true };
    payloads.push(data);
  }
  return { payloads, done: false };
}

/**
 * Yields each `data:` event as parsed JSON until `[DONE]` or the end of the body. After `[DONE]` the rest of the body
 * (the chunked terminator) is drained, not destroyed, so the keep-alive socket goes back to its agent for the next
 * request (no new connection per request); a consumer that stops early or fails destroys the response (and with it
 * the connection: the engine stops generating). `onDone` is called once the reading is over, however it ended.
 */
export async function* readSse<T>(res: IncomingMessage, signal: AbortSignal, onDone: () => void = () => undefined): AsyncGenerator<T> {
  res.setEncoding('utf8');
  let buffer = '';
  let finished = false;
  try {
    for await (const text of res.iterator({ destroyOnReturn: false })) {
      buffer += text as string;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const { payloads, done } = eventData(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        for (const data of payloads) yield JSON.parse(data) as T;
        if (done) {
          finished = true;
          return;
        }
      }
    }
    finished = res.complete;
  } catch (err) {
    // Aborted (the caller's cancel, or the upstream timeout): the abort's reason, not the socket error ("aborted",
    // ECONNRESET) it caused, which read as an internal error instead of DEADLINE_EXCEEDED.
    if (signal.aborted) throw (signal.reason ?? err) as Error;
    if (err instanceof SyntaxError) throw err;
    throw new UpstreamConnectionError(`connection lost mid-answer: ${(err as Error).message}`, { cause: err });
  } finally {
    // After the loop let go of the stream: drain what is left (so the socket is freed), or close it.
    if (finished) res.resume();
    else res.destroy();
    onDone();
  }
  if (!res.complete) throw new UpstreamConnectionError('connection lost mid-answer');
}
