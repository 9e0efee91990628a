/** OpenAI wire types (snake_case, as on the wire) for the endpoints the gateway serves. */

export type WireContentPart = { type: 'text'; text: string } | { type: string; [key: string]: unknown };

export interface WireMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | WireContentPart[] | null;
  name?: string;
}

export interface WireLogprobContent {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] | null }>;
}

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** As OpenAI's: cached_tokens = prompt tokens the worker took from its prefix cache instead of prefilling them. */
  prompt_tokens_details: { cached_tokens: number };
}

export type WireFinishReason = 'stop' | 'length' | 'tool_calls' | null;

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A streamed piece of a tool call: the first names it (id, type, name), later ones add argument text. */
export interface WireToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface WireChatChoice {
  index: number;
  /** content is null when the reply is only tool calls. */
  message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: WireToolCall[] };
  logprobs: { content: WireLogprobContent[] } | null;
  finish_reason: WireFinishReason;
}

export interface WireChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: WireChatChoice[];
  usage: WireUsage;
  system_fingerprint: string;
}

export interface WireChatChunkChoice {
  index: number;
  delta: { role?: 'assistant'; content?: string; tool_calls?: WireToolCallDelta[] };
  logprobs: { content: WireLogprobContent[] } | null;
  finish_reason: WireFinishReason;
}

export interface WireChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: WireChatChunkChoice[];
  usage?: WireUsage | null;
  system_fingerprint: string;
}

export interface WireCompletionLogprobs {
  tokens: string[];
  token_logprobs: Array<number | null>;
  top_logprobs: Array<Record<string, number> | null>;
  text_offset: number[];
}

export interface WireCompletionChoice {
  index: number;
  text: string;
  logprobs: WireCompletionLogprobs | null;
  finish_reason: WireFinishReason;
}

export interface WireCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: WireCompletionChoice[];
  usage?: WireUsage | null;
  system_fingerprint: string;
}

export interface WireEmbeddingList {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface WireModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}
