/**
 * The HTTP side of the adapter: one OpenAI-compatible server. Streaming generation is a plain node:http(s) request
 * on a keep-alive agent with a small SSE reader (the official client added ~1 ms per request on this path); the
 * connection stays open between requests (no TCP or TLS handshake per request). No retries (the gateway retries on
 * another worker) except one: a request whose kept-alive connection the server had closed meanwhile is sent again on
 * a new one. The engines' own endpoints (/health, /metrics, /tokenize, /v1/models) are fetches with short timeouts.
 * The API key is sent, never logged.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
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

/** A reused keep-alive connection turned out closed before the request was answered. */
class StaleConnectionError extends UpstreamConnectionError {}

/**
 * The caller's signal or the timeout, whichever comes first, as one signal (what `AbortSignal.any([signal,
 * AbortSignal.timeout(ms)])` gives, with the same reasons), and `clear` to drop the timer and the listener once the
 * request is over. One AbortController and one plain timer: `AbortSignal.any` with `AbortSignal.timeout` cost ~35 µs
 * per request here (weak references and a finalization registry), on the path to the first token.
 */
function withTimeout(signal: AbortSignal, timeoutMs: number): { signal: AbortSignal; clear: () => void } {
  const ac = new AbortController();
  if (signal.aborted) {
    ac.abort(signal.reason);
    return { signal: ac.signal, clear: () => undefined };
  }
  const onAbort = (): void => ac.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ac.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  timer.unref();
  return {
    signal: ac.signal,
    clear: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

export class Upstream {
  readonly base: string;
  readonly root: string;
  readonly label: string;
  private readonly headers: Record<string, string>;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;

  constructor(options: UpstreamOptions) {
    const urls = upstreamUrls(options.url);
    this.base = urls.base;
    this.root = urls.root;
    this.label = redactedUrl(options.url);
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.timeoutMs = options.timeoutMs;
    this.agent = this.base.startsWith('https:') ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /**
   * Opens a streaming call and yields its chunks; aborting `signal` closes the upstream connection (the engine stops
   * generating). Throws UpstreamHttpError for a non-200 answer, UpstreamConnectionError when the server is not
   * reachable or drops the connection, the signal's reason when aborted.
   */
  async stream(endpoint: 'chat' | 'completions', body: Record<string, unknown>, signal: AbortSignal): Promise<AsyncGenerator<UpstreamChunk>> {
    const url = new URL(`${this.base}${endpoint === 'chat' ? '/chat/completions' : '/completions'}`);
    const payload = JSON.stringify(body);
    const combined = withTimeout(signal, this.timeoutMs);
    try {
      let res: IncomingMessage;
      try {
        res = await this.post(url, payload, combined.signal);
      } catch (err) {
        // A kept-alive connection the server closed while it sat idle fails before any answer: the server never read
        // the request, so it is sent once more on a new connection (Node's documented `reusedSocket` case).
        if (!(err instanceof StaleConnectionError)) throw err;
        res = await this.post(url, payload, combined.signal);
      }
      if (res.statusCode !== 200) throw await UpstreamHttpError.from(res);
      return readSse<UpstreamChunk>(res, combined.signal, combined.clear);
    } catch (err) {
      combined.clear();
      throw err;
    }
  }

  private post(url: URL, payload: string, signal: AbortSignal): Promise<IncomingMessage> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        agent: this.agent,
        signal,
        headers: { ...this.headers, 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(payload) },
      }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) reject(err);
        else if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) reject(new StaleConnectionError(err.message));
        else reject(new UpstreamConnectionError(err.message, { cause: err }));
      });
      req.end(payload);
    });
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
