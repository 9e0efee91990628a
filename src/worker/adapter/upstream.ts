/**
 * The HTTP side of the adapter: one OpenAI-compatible server. Streaming generation is a plain node:http(s) request
 * on a keep-alive agent with a small callback-driven SSE reader (the official client added ~1 ms per request on this
 * path; an abort signal on the request, async iteration of the body and an async generator per call another ~0.2 ms
 * before the first token, measured here); the connection stays open between requests (no TCP or TLS handshake per
 * request). No retries (the gateway retries on another worker) except one: a request whose kept-alive connection the
 * server had closed meanwhile is sent again on a new one. The engines' own endpoints (/health, /metrics, /tokenize,
 * /v1/models) are fetches with short timeouts. The API key is sent, never logged.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readSse, UpstreamConnectionError, UpstreamHttpError } from './sse';

export interface UpstreamOptions {
  /** e.g. http://127.0.0.1:8080 or https://api.openai.com/v1 (a bare server root gets /v1). */
  url: string;
  apiKey?: string;
  /** Per-request timeout of generation calls (the gRPC deadline and cancellation still apply). */
  timeoutMs: number;
}

/** One streamed chunk of /chat/completions or /completions, as far as the adapter reads it. */
export interface UpstreamChunk {
  choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: UpstreamToolCallDelta[] | null }; text?: string; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

export interface UpstreamToolCallDelta {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export interface UpstreamModel {
  id: string;
  owned_by?: string;
  max_model_len?: number;
}

/** The API base (…/v1) and the server root (for /health, /metrics, /tokenize). */
export function upstreamUrls(url: string): { base: string; root: string } {
  const u = new URL(url);
  if (u.username || u.password) throw new Error('put credentials in --api-key-env, not in the upstream URL');
  const path = u.pathname.replace(/\/+$/, '');
  const base = path === '' ? `${u.origin}/v1` : `${u.origin}${path}`;
  const root = `${u.origin}${path.replace(/\/v1$/, '')}`;
  return { base, root };
}

/** The URL without query string, for logs and error messages. */
export function redactedUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** What a streaming call reports: the response headers, each chunk, then exactly one of end / fail. */
export interface UpstreamSink {
  /** The upstream answered 200 (before the first chunk). */
  headers(): void;
  chunk(chunk: UpstreamChunk): void;
  end(): void;
  /**
   * UpstreamHttpError (a non-200 answer), UpstreamConnectionError (not reachable, or the connection dropped), a
   * SyntaxError (an event that is not JSON), the signal's reason (aborted), or a TimeoutError DOMException.
   */
  fail(err: Error): void;
}

const timeoutError = (): Error => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

export class Upstream {
  readonly base: string;
  readonly root: string;
  readonly label: string;
  private readonly headers: Record<string, string>;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;
  private readonly send: (options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;
  /** The two generation endpoints' request options, computed once (no URL parsing per request). */
  private readonly chatRequest: RequestOptions;
  private readonly completionsRequest: RequestOptions;

  constructor(options: UpstreamOptions) {
    const urls = upstreamUrls(options.url);
    this.base = urls.base;
    this.root = urls.root;
    this.label = redactedUrl(options.url);
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.timeoutMs = options.timeoutMs;
    const https = this.base.startsWith('https:');
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.send = https ? httpsRequest : httpRequest;
    const base = new URL(this.base);
    const requestTo = (path: string): RequestOptions => ({
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port,
      path: `${base.pathname.replace(/\/+$/, '')}${path}`,
      method: 'POST',
      agent: this.agent,
      headers: { ...this.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
    });
    this.chatRequest = requestTo('/chat/completions');
    this.completionsRequest = requestTo('/completions');
  }

  /**
   * Opens a streaming call; its chunks go to `sink` as they arrive, then exactly one of `end` / `fail`. Aborting
   * `signal`, or the timeout, closes the upstream connection (the engine stops generating) and fails the call with
   * the signal's reason (a TimeoutError). No retries, except a request whose kept-alive connection the server had
   * closed while it sat idle: it fails before any answer (the server never read it) and is sent once more on a new
   * connection (Node's documented `reusedSocket` case).
   */
  stream(endpoint: 'chat' | 'completions', body: Record<string, unknown>, signal: AbortSignal, sink: UpstreamSink): void {
    if (signal.aborted) {
      sink.fail(signal.reason as Error);
      return;
    }
    const payload = JSON.stringify(body);
    const options = endpoint === 'chat' ? this.chatRequest : this.completionsRequest;
    const headers = { ...options.headers, 'content-length': Buffer.byteLength(payload) };
    let settled = false;
    let req: ClientRequest | undefined;
    let res: IncomingMessage | undefined;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // The sink's end may still fail (the caller's stream went away): it fails the call instead, never the process.
      if (!err) {
        try {
          sink.end();
          return;
        } catch (endErr) {
          err = endErr as Error;
        }
      }
      sink.fail(err);
    };
    // The caller's cancel or the timeout: the call fails with its reason, and the connection is closed.
    const abort = (reason: Error): void => {
      if (settled) return;
      settle(reason);
      if (res) res.destroy();
      else req?.destroy();
    };
    const onAbort = (): void => abort(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => abort(timeoutError()), this.timeoutMs);
    timer.unref();
    const onResponse = (response: IncomingMessage): void => {
      res = response;
      if (settled) {
        response.destroy();
        return;
      }
      if (response.statusCode !== 200) {
        UpstreamHttpError.from(response).then(settle, (err: Error) => settle(new UpstreamConnectionError(err.message, { cause: err })));
        return;
      }
      sink.headers();
      readSse(response, {
        data: (data) => {
          if (settled) return;
          // An event that is not JSON (SyntaxError) or a consumer that throws: the call fails and the connection closes.
          try {
            sink.chunk(JSON.parse(data) as UpstreamChunk);
          } catch (err) {
            abort(err as Error);
          }
        },
        end: (err) => settle(err),
      });
    };
    const send = (firstTry: boolean): void => {
      const r = this.send({ ...options, headers }, onResponse);
      req = r;
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (settled || res) return;
        if (firstTry && r.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) send(false);
        else settle(new UpstreamConnectionError(err.message, { cause: err }));
      });
      r.end(payload);
    };
    try {
      send(true);
    } catch (err) {
      // A request Node refuses to build (e.g. a header it does not accept) fails the call, never the caller.
      settle(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): void {
    this.agent.destroy();
  }

  async models(timeoutMs: number): Promise<UpstreamModel[]> {
    const res = await this.get(`${this.base}/models`, timeoutMs, true);
    if (!res.ok) throw new Error(`GET ${this.base}/models: HTTP ${res.status}`);
    const body = (await res.json()) as { data?: UpstreamModel[] };
    return Array.isArray(body.data) ? body.data : [];
  }

  /**
   * GET on the server root (e.g. /health, /metrics); never throws: status 0 = nothing listens (connection refused or
   * reset), -1 = no answer in time (a busy engine may answer slowly).
   */
  async probe(path: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    try {
      const res = await this.get(`${this.root}${path}`, timeoutMs, false);
      return { status: res.status, text: await res.text() };
    } catch (err) {
      return { status: isTimeout(err) ? -1 : 0, text: '' };
    }
  }

  /** POST JSON to the server root; resolves to the parsed body of a 2xx answer, undefined otherwise. */
  async postJson(path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    try {
      const res = await fetch(`${this.root}${path}`, { method: 'POST', headers: { ...this.headers, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) return undefined;
      return (await res.json());
    } catch {
      return undefined;
    }
  }

  private async get(url: string, timeoutMs: number, auth: boolean): Promise<Response> {
    return fetch(url, { headers: auth ? this.headers : {}, signal: AbortSignal.timeout(timeoutMs) });
  }
}
