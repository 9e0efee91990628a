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

/** What `readSse` reports: each `data:` payload (unparsed), then exactly one end. */
export interface SseHandlers {
  data(payload: string): void;
  /** `[DONE]`, or the body's complete end (no error); the body cut short, or a socket error (an error). */
  end(err?: Error): void;
}

/**
 * Reads the server-sent events of a response as they arrive ('data' callbacks: no async iterator and no promise per
 * chunk on the path to the first token) and hands over each `data:` payload until `[DONE]` or the end of the body.
 * After `[DONE]` the rest of the body (the chunked terminator) keeps flowing and is dropped, not destroyed, so the
 * keep-alive socket goes back to its agent for the next request. A caller that stops early destroys the response
 * itself (and with it the connection: the engine stops generating); `end` is not called then.
 */
export function readSse(res: IncomingMessage, handlers: SseHandlers): void {
  res.setEncoding('utf8');
  let buffer = '';
  let over = false;
  const finish = (err?: Error): void => {
    if (over) return;
    over = true;
    handlers.end(err);
  };
  res.on('data', (text: string) => {
    if (over) return;
    buffer += text;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const raw of event.split('\n')) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (!line.startsWith('data:')) continue;
        const data = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
        if (data === '[DONE]') {
          finish();
          return;
        }
        handlers.data(data);
        if (over || res.destroyed) return;
      }
    }
  });
  res.on('end', () => finish(res.complete ? undefined : new UpstreamConnectionError('connection lost mid-answer')));
  res.on('error', (err) => finish(new UpstreamConnectionError(`connection lost mid-answer: ${err.message}`, { cause: err })));
  res.on('close', () => finish(new UpstreamConnectionError('connection lost mid-answer')));
}
