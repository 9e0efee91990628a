/**
 * Validation of OpenAI requests into `Valid*` types. Every supported field is read here; any other field is
 * rejected with 400 naming it. Sampling fields map onto the shared `SamplingParams` message.
 */
import { FleetError } from '../../common/errors';
import type { ChatMessage, SamplingParams } from '../../common/gen/worker';
import { DEFAULT_REQUEST_LIMITS, LIST_LIMITS, SAMPLING_LIMITS, TOOL_LIMITS, checkConvTemplateName, checkRequestLimit, utf8Bytes, type RequestLimits } from '../../common/request-limits';
import { findConvTemplate } from '../../chat/conv-template';
import { parseChatMessages, type ValidChatMessage } from '../../chat/messages';
import { JINJA_TEMPLATE_NAME } from '../../chat/select';
import {
  asBody, given, invalid, optBool, optInt, optLimited, optLogitBias, optObject, optStop, optString, rejectUnknown, reqString, type Body,
} from './fields';
import { CONSTRAINT_FIELDS, readConstraint } from './response-format';
import { NO_TOOLS, readTools, TOOL_FIELDS, type ValidTools } from './tools';

/** `conv_template`: only the names of FastChat's templates and `jinja` (each name costs the worker a cache entry). */
function convTemplateOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const name = checkConvTemplateName(raw);
  if (name !== '' && name !== JINJA_TEMPLATE_NAME && !findConvTemplate(name)) {
    throw new FleetError('invalid_request', `conv_template: unknown template '${name}' (a FastChat template name or '${JINJA_TEMPLATE_NAME}')`, { param: 'conv_template' });
  }
  return name;
}

const SAMPLING_FIELDS = [
  'temperature', 'top_p', 'top_k', 'min_p', 'repetition_penalty', 'presence_penalty', 'frequency_penalty', 'seed', 'stop',
  'stop_token_ids', 'logit_bias', 'ignore_eos', 'skip_special_tokens', 'include_stop_str_in_output', 'n', 'stream',
  'stream_options', 'user', 'model',
];

const CHAT_FIELDS = new Set([...SAMPLING_FIELDS, 'messages', 'max_tokens', 'max_completion_tokens', 'logprobs', 'top_logprobs', 'add_generation_prompt', 'conv_template', ...CONSTRAINT_FIELDS, ...TOOL_FIELDS]);
const COMPLETION_FIELDS = new Set([...SAMPLING_FIELDS, 'prompt', 'max_tokens', 'logprobs', 'echo', 'suffix', 'best_of', ...CONSTRAINT_FIELDS]);
const EMBEDDING_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user', 'normalize']);

export const MAX_N = SAMPLING_LIMITS.n.max;

export interface ValidGenerationCommon {
  model: string;
  n: number;
  stream: boolean;
  includeUsage: boolean;
  user?: string;
  params: Partial<SamplingParams>;
}

export interface ValidChatRequest extends ValidGenerationCommon {
  messages: ChatMessage[];
  logprobs: boolean;
  convTemplate?: string;
  addGenerationPrompt: boolean;
  tools: ValidTools;
}

export interface ValidCompletionRequest extends ValidGenerationCommon {
  prompt: string;
  echo: boolean;
  logprobs: number | undefined;
}

export interface ValidEmbeddingRequest {
  model: string;
  input: string[];
  encodingFormat: 'float' | 'base64';
  dimensions?: number;
  normalize: boolean;
}

function readSampling(body: Body, limits: RequestLimits): Partial<SamplingParams> {
  const stopTokenIds = body.stop_token_ids;
  if (stopTokenIds !== undefined && (!Array.isArray(stopTokenIds) || stopTokenIds.some((t) => !Number.isInteger(t) || (t as number) < 0))) {
    throw invalid('stop_token_ids', 'must be an array of token ids');
  }
  if (stopTokenIds !== undefined && stopTokenIds.length > LIST_LIMITS.maxStopTokenIds) {
    throw invalid('stop_token_ids', `at most ${LIST_LIMITS.maxStopTokenIds} token ids, got ${stopTokenIds.length}`);
  }
  return {
    temperature: optLimited(body, 'temperature'),
    topP: optLimited(body, 'top_p'),
    topK: optLimited(body, 'top_k'),
    minP: optLimited(body, 'min_p'),
    repetitionPenalty: optLimited(body, 'repetition_penalty'),
    presencePenalty: optLimited(body, 'presence_penalty'),
    frequencyPenalty: optLimited(body, 'frequency_penalty'),
    seed: optLimited(body, 'seed'),
    stop: optStop(body, limits),
    stopTokenIds: (stopTokenIds as number[] | undefined) ?? [],
    logitBias: optLogitBias(body, limits),
    ignoreEos: optBool(body, 'ignore_eos') ?? false,
    skipSpecialTokens: optBool(body, 'skip_special_tokens') ?? true,
    includeStopStrInOutput: optBool(body, 'include_stop_str_in_output') ?? false,
  };
}

/** max_completion_tokens has max_tokens' limit (it is the newer name of the same field). */
function optMaxTokens(body: Body, key: 'max_completion_tokens'): number | undefined {
  const { min, max } = SAMPLING_LIMITS.max_tokens;
  return optInt(body, key, min, max);
}

function readCommon(body: Body, limits: RequestLimits): ValidGenerationCommon {
  const stream = optBool(body, 'stream') ?? false;
  const streamOptions = optObject(body, 'stream_options');
  if (streamOptions) {
    if (!stream) throw invalid('stream_options', 'is only allowed when stream is true');
    rejectUnknown(streamOptions, new Set(['include_usage']), 'stream_options');
  }
  return {
    model: reqString(body, 'model'),
    n: optLimited(body, 'n') ?? 1,
    stream,
    includeUsage: streamOptions ? optBool(streamOptions, 'include_usage') ?? false : false,
    user: optString(body, 'user'),
    params: readSampling(body, limits),
  };
}

/** A validated message in the proto's shape; tool turns must be complete (a tool result names its call). */
function toProtoMessage(m: ValidChatMessage, i: number): ChatMessage {
  if (m.role === 'tool' && (m.toolCallId === undefined || m.toolCallId === '')) throw invalid(`messages[${i}].tool_call_id`, 'is required for a tool message');
  const calls = m.toolCalls ?? [];
  if (calls.length > TOOL_LIMITS.maxCallsPerMessage) throw invalid(`messages[${i}].tool_calls`, `at most ${TOOL_LIMITS.maxCallsPerMessage} calls, got ${calls.length}`);
  const toolCallsJson = calls.length === 0 ? '' : JSON.stringify(calls.map((c, j) => {
    if (c.id === undefined || c.id === '') throw invalid(`messages[${i}].tool_calls[${j}].id`, 'is required');
    return { id: c.id, type: 'function', function: { name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function.arguments) } };
  }));
  return { role: m.role, content: m.content ?? '', name: m.name ?? '', toolCallId: m.toolCallId ?? '', toolCallsJson };
}

/**
 * Messages are validated by the chat library (the same code the worker renders with), then carried in the proto
 * shape; 'developer' is OpenAI's newer name for 'system'.
 */
function readMessages(body: Body, limits: RequestLimits): ChatMessage[] {
  if (Array.isArray(body.messages)) checkRequestLimit(limits, 'maxMessages', body.messages.length, 'messages', 'messages');
  const messages = parseChatMessages(body.messages);
  checkRequestLimit(limits, 'maxPromptBytes', messages.reduce((sum, m) => sum + utf8Bytes(m.content ?? ''), 0), 'messages', 'bytes of content');
  return messages.map(toProtoMessage);
}

/** n × max_tokens within the limit (only when max_tokens is given; the worker checks the default it applies). */
function checkChoiceTokens(n: number, maxTokens: number | undefined, limits: RequestLimits): void {
  if (maxTokens !== undefined) checkRequestLimit(limits, 'maxChoiceTokens', n * maxTokens, 'max_tokens', `tokens (n × max_tokens = ${n} × ${maxTokens})`);
}

export function validateChatRequest(raw: unknown, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): ValidChatRequest {
  const body = asBody(raw);
  rejectUnknown(body, CHAT_FIELDS, '/v1/chat/completions');
  const common = readCommon(body, limits);
  const maxTokens = optMaxTokens(body, 'max_completion_tokens') ?? optLimited(body, 'max_tokens');
  checkChoiceTokens(common.n, maxTokens, limits);
  const logprobs = optBool(body, 'logprobs') ?? false;
  const top = optLimited(body, 'top_logprobs');
  if (top !== undefined && !logprobs) throw invalid('top_logprobs', 'requires logprobs to be true');
  // Tools and constraints are read only when the request has their fields (a plain chat never enters those readers).
  const tools = given(body, TOOL_FIELDS) ? readTools(body) : NO_TOOLS;
  const constraint = given(body, CONSTRAINT_FIELDS) ? readConstraint(body) : undefined;
  if (constraint && tools.offered) throw invalid(CONSTRAINT_FIELDS.find((k) => body[k] !== undefined && body[k] !== null) ?? 'response_format', 'cannot be combined with tools (unless tool_choice is "none")');
  return {
    ...common,
    tools,
    params: { ...common.params, maxTokens, topLogprobs: logprobs ? (top ?? 0) : undefined, constraint },
    messages: readMessages(body, limits),
    logprobs,
    convTemplate: convTemplateOf(optString(body, 'conv_template')),
    addGenerationPrompt: optBool(body, 'add_generation_prompt') ?? true,
  };
}

export function validateCompletionRequest(raw: unknown, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): ValidCompletionRequest {
  const body = asBody(raw);
  rejectUnknown(body, COMPLETION_FIELDS, '/v1/completions');
  const common = readCommon(body, limits);
  const prompt = body.prompt;
  let text: string;
  if (typeof prompt === 'string') text = prompt;
  else if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') text = prompt[0];
  else throw invalid('prompt', 'must be a string (or an array holding one string); batched prompts are not supported');
  if (text === '') throw invalid('prompt', 'must not be empty');
  checkRequestLimit(limits, 'maxPromptBytes', utf8Bytes(text), 'prompt', 'bytes');
  if (optString(body, 'suffix')) throw invalid('suffix', 'is not supported');
  const bestOf = optInt(body, 'best_of', 1, MAX_N);
  if (bestOf !== undefined && bestOf !== common.n) throw invalid('best_of', 'only best_of equal to n is supported');
  const logprobs = optInt(body, 'logprobs', SAMPLING_LIMITS.top_logprobs.min, SAMPLING_LIMITS.top_logprobs.max);
  const echo = optBool(body, 'echo') ?? false;
  const maxTokens = optLimited(body, 'max_tokens') ?? 16;
  checkChoiceTokens(common.n, maxTokens, limits);
  return {
    ...common,
    params: { ...common.params, maxTokens, topLogprobs: logprobs, echo, constraint: given(body, CONSTRAINT_FIELDS) ? readConstraint(body) : undefined },
    prompt: text,
    echo,
    logprobs,
  };
}

export function validateEmbeddingRequest(raw: unknown): ValidEmbeddingRequest {
  const body = asBody(raw);
  rejectUnknown(body, EMBEDDING_FIELDS, '/v1/embeddings');
  const input = body.input;
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string')) {
    throw invalid('input', 'must be a string or a non-empty array of strings (token arrays are not supported)');
  }
  if ((list as string[]).some((s) => s === '')) throw invalid('input', 'must not contain empty strings');
  const format = optString(body, 'encoding_format') ?? 'float';
  if (format !== 'float' && format !== 'base64') throw invalid('encoding_format', `must be "float" or "base64", got "${format}"`);
  return {
    model: reqString(body, 'model'),
    input: list as string[],
    encodingFormat: format,
    dimensions: optInt(body, 'dimensions', 1, 1 << 16),
    normalize: optBool(body, 'normalize') ?? true,
  };
}

export function notFoundModel(model: string, available: string[]): FleetError {
  return new FleetError('not_found', `The model '${model}' does not exist${available.length ? `; available: ${available.join(', ')}` : ''}`, { param: 'model', code: 'model_not_found' });
}
