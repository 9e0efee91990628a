/** A real stack for the arena tests: controller, two workers serving two different generated models, gateway. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedModel } from '../../support/models';
import { startStack, type Stack } from '../../support/stack';

export interface ArenaStack {
  stack: Stack;
  url: string;
  dir: string;
  dbPath: string;
  stop(): Promise<void>;
}

/** Two tiny models that answer differently (different weight seeds), served as `a` and `b`. */
export async function arenaModelDirs(): Promise<[string, string]> {
  return [await generatedModel('arena-a', { preset: 'tiny', seed: 11 }), await generatedModel('arena-b', { preset: 'tiny', seed: 22 })];
}

export async function startArenaStack(gatewayArgs: string[] = []): Promise<ArenaStack> {
  const [a, b] = await arenaModelDirs();
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-arena-'));
  const dbPath = join(dir, 'arena.db');
  const stack = await startStack({ workers: [{ model: a, names: ['a'] }, { model: b, names: ['b'] }], gatewayArgs: ['--db', dbPath, ...gatewayArgs] });
  return {
    stack,
    url: stack.url,
    dir,
    dbPath,
    stop: async () => {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** OpenAI's error body. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** One chat-completion chunk as streamed. */
export interface SseChunk {
  model: string;
  choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
  error?: ErrorBody['error'];
}

export interface JsonResponse<T> {
  status: number;
  body: T;
}

export async function call<T = ErrorBody>(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export interface SseResult {
  status: number;
  raw: string;
  chunks: SseChunk[];
  text: string;
}

/** Reads a whole SSE answer: the raw bytes, the JSON chunks and the concatenated content deltas. */
export async function readSse(res: Response): Promise<SseResult> {
  const raw = await res.text();
  const chunks = raw.split('\n\n').filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]').map((e) => JSON.parse(e.slice(6)) as SseChunk);
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  return { status: res.status, raw, chunks, text };
}

/** A client that keeps the gateway's session cookie, as a browser does. */
export class ArenaClient {
  cookie: string | undefined;

  constructor(readonly url: string, readonly headers: Record<string, string> = {}) {}

  private remember(res: Response): void {
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
  }

  private requestHeaders(body: unknown, extra: Record<string, string>): Record<string, string> {
    return { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.cookie ? { cookie: this.cookie } : {}), ...this.headers, ...extra };
  }

  async call<T = ErrorBody>(path: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T> & { headers: Headers }> {
    const res = await fetch(`${this.url}${path}`, { method, headers: this.requestHeaders(body, headers), body: body === undefined ? undefined : JSON.stringify(body) });
    this.remember(res);
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: res.headers };
  }

  async stream(path: string, body: unknown): Promise<SseResult> {
    const res = await fetch(`${this.url}${path}`, { method: 'POST', headers: this.requestHeaders(body, {}), body: JSON.stringify(body) });
    this.remember(res);
    return readSse(res);
  }
}
