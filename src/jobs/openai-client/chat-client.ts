/**
 * A typed chat-completions client for any OpenAI-compatible endpoint (our gateway, OpenAI, Azure's
 * OpenAI-compatible route, vLLM, ...), built on the official `openai` package: per-request timeout,
 * retries with exponential backoff and jitter on 408/409/429/5xx and network errors (honouring
 * `Retry-After` / `retry-after-ms`), and a bound on concurrent requests. Errors are FleetErrors.
 */
import OpenAI from 'openai';
import { FleetError } from '../../common/errors';
import { fromOpenAIError } from './error-mapping';
import { Semaphore } from './semaphore';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** Aborting cancels the request (also while it waits for a free slot or a retry). */
  signal?: AbortSignal;
}

export interface ChatClient {
  /** The assistant message's text of the first choice. */
  complete(request: ChatRequest): Promise<string>;
  /** Base URL the client talks to (for messages; never contains the key). */
  readonly baseUrl: string;
}

export interface ChatClientOptions {
  /** e.g. `http://127.0.0.1:8000/v1` or `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Bearer token; empty sends FastChat's conventional `EMPTY`. */
  apiKey: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Requests in flight at most, across all callers of this client. */
  maxConcurrency: number;
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  validateBaseUrl(options.baseUrl);
  const openai = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey === '' ? 'EMPTY' : options.apiKey,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
  });
  const slots = new Semaphore(options.maxConcurrency);
  const complete = (request: ChatRequest): Promise<string> =>
    slots.run(() => completeOnce(openai, request, options.baseUrl), request.signal);
  return { complete, baseUrl: options.baseUrl };
}

async function completeOnce(openai: OpenAI, request: ChatRequest, endpoint: string): Promise<string> {
  let response: OpenAI.Chat.Completions.ChatCompletion;
  try {
    response = await openai.chat.completions.create(
      {
        model: request.model,
        messages: request.messages,
        n: 1,
        temperature: request.temperature,
        max_tokens: request.maxTokens,
      },
      { signal: request.signal },
    );
  } catch (err) {
    throw fromOpenAIError(err, endpoint);
  }
  const content = response.choices?.[0]?.message?.content;
  if (typeof content !== 'string') {
    // The judge offers no tools; an endpoint that answers with tool calls anyway gave no answer to judge.
    const calls = response.choices?.[0]?.message?.tool_calls?.length ?? 0;
    if (calls > 0) throw new FleetError('generation_failed', `${endpoint} answered model '${request.model}' with ${calls} tool call(s) and no text; answers and judgments need text (no tools are sent)`);
    throw new FleetError('generation_failed', `${endpoint} returned no message content for model '${request.model}'`);
  }
  return content;
}

function validateBaseUrl(baseUrl: string): void {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new FleetError('invalid_request', `base URL must be an absolute http(s) URL, got '${baseUrl}'`, { param: 'base_url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FleetError('invalid_request', `base URL must use http or https, got '${baseUrl}'`, { param: 'base_url' });
  }
}
