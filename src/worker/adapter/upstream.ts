/**
 * The HTTP side of the adapter: one OpenAI-compatible server. Streaming generation goes through the official
 * `openai` client (no retries: the gateway retries on another worker); the engines' own endpoints (/health,
 * /metrics, /tokenize, /v1/models) are plain fetches with short timeouts. The API key is sent, never logged.
 */
import OpenAI from 'openai';
import type { Stream } from 'openai/streaming';

export interface UpstreamOptions {
  /** e.g. http://127.0.0.1:8080 or https://api.openai.com/v1 (a bare server root gets /v1). */
  url: string;
  apiKey?: string;
  /** Per-request timeout of generation calls (the gRPC deadline and cancellation still apply). */
  timeoutMs: number;
}

/** One streamed chunk of /chat/completions or /completions, as far as the adapter reads it. */
export interface UpstreamChunk {
  choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null }; text?: string; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
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

export class Upstream {
  readonly base: string;
  readonly root: string;
  readonly label: string;
  private readonly client: OpenAI;
  private readonly headers: Record<string, string>;

  constructor(options: UpstreamOptions) {
    const urls = upstreamUrls(options.url);
    this.base = urls.base;
    this.root = urls.root;
    this.label = redactedUrl(options.url);
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.client = new OpenAI({ baseURL: this.base, apiKey: options.apiKey || 'EMPTY', maxRetries: 0, timeout: options.timeoutMs });
  }

  /** Opens a streaming call; aborting `signal` closes the upstream connection (the engine stops generating). */
  async stream(endpoint: 'chat' | 'completions', body: Record<string, unknown>, signal: AbortSignal): Promise<Stream<UpstreamChunk>> {
    const path = endpoint === 'chat' ? '/chat/completions' : '/completions';
    return this.client.post<Stream<UpstreamChunk>>(path, { body, stream: true, signal });
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
