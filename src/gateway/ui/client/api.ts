/**
 * Calls to the gateway: JSON requests, blobs, and streamed chat completions (SSE over fetch, cancellable with an
 * AbortSignal). Every call sends the stored API key; a 401 tells the page to ask for one.
 */
import { loadKey } from './key-store';
import { SseParser } from './sse';
import type { ChatChunk, ErrorBody, ToolCall, ToolCallDelta } from './wire';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly code: string | null = null) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface StreamResult {
  text: string;
  /** The calls the model made (OpenAI's tool_calls deltas joined), in index order. */
  toolCalls: ToolCall[];
  finishReason: string | null;
  /** True when the user stopped the answer (the partial text is kept). */
  stopped: boolean;
}

export interface StreamOptions {
  signal: AbortSignal;
  onText(delta: string): void;
  /** Each tool_calls delta as it arrives (the first of a call names it, later ones add argument text). */
  onToolCall?(delta: ToolCallDelta): void;
}

let onUnauthorized: (message: string) => void = () => undefined;

export function setUnauthorizedHandler(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

function headers(json: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const key = loadKey();
  if (key !== '') out.authorization = `Bearer ${key}`;
  if (json) out['content-type'] = 'application/json';
  return out;
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  let code: string | null = null;
  try {
    const body = (await res.json()) as ErrorBody;
    message = body.error?.message ?? message;
    code = body.error?.code ?? null;
  } catch {
    // Not a JSON error body: keep the status line.
  }
  if (res.status === 401) onUnauthorized(message);
  return new ApiError(res.status, message, code);
}

async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await send('GET', path)).json()) as T;
}

export async function sendJson<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
  return (await (await send(method, path, body)).json()) as T;
}

export async function getBlob(path: string): Promise<Blob> {
  return (await send('GET', path)).blob();
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof DOMException && err.name === 'AbortError');
}

/** Streams a chat completion (OpenAI SSE chunks); resolves with the whole text and calls, also when stopped. */
export async function streamChat(path: string, body: unknown, options: StreamOptions): Promise<StreamResult> {
  const result: StreamResult = { text: '', toolCalls: [], finishReason: null, stopped: false };
  try {
    const res = await send('POST', path, body, options.signal);
    if (!res.body) throw new ApiError(res.status, 'the answer has no body');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      const events = done ? parser.push(decoder.decode()).concat(parser.finish()) : parser.push(decoder.decode(value, { stream: true }));
      for (const data of events) if (data !== '[DONE]') readChunk(JSON.parse(data) as ChatChunk, result, options);
      if (done) return result;
    }
  } catch (err) {
    if (!isAbort(err, options.signal)) throw err;
    result.stopped = true;
    return result;
  }
}

function readChunk(chunk: ChatChunk, result: StreamResult, options: StreamOptions): void {
  if (chunk.error) throw new ApiError(500, chunk.error.message, chunk.error.code ?? null);
  const choice = chunk.choices?.[0];
  const text = choice?.delta?.content ?? '';
  if (text !== '') {
    result.text += text;
    options.onText(text);
  }
  for (const delta of choice?.delta?.tool_calls ?? []) {
    const call = (result.toolCalls[delta.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
    if (delta.id) call.id = delta.id;
    if (delta.function.name) call.function.name = delta.function.name;
    call.function.arguments += delta.function.arguments ?? '';
    options.onToolCall?.(delta);
  }
  if (choice?.finish_reason) result.finishReason = choice.finish_reason;
}
