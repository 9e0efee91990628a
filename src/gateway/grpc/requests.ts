/**
 * Public gRPC requests as OpenAI request bodies, so they pass through the very validation of the HTTP API
 * (openai/validate.ts: the shared request-limits table, the chat library's message checks) and become the same
 * Valid* requests. An error's `param` is renamed to the proto field path (`temperature` → `params.temperature`).
 */
import { FleetError, asFleetError } from '../../common/errors';
import type { ChatRequest, CompletionRequest, EmbeddingsRequest } from '../../common/gen/inference';
import type { Constraint, SamplingParams, ToolOptions } from '../../common/gen/worker';
import type { RequestLimits } from '../../common/request-limits';
import {
  validateChatRequest, validateCompletionRequest, validateEmbeddingRequest, type ValidChatRequest, type ValidCompletionRequest, type ValidEmbeddingRequest,
} from '../openai/validate';

type Body = Record<string, unknown>;

/** OpenAI field → proto field path, for fields that live in SamplingParams. */
const PARAM_PATHS: Record<string, string> = {
  temperature: 'params.temperature', top_p: 'params.top_p', top_k: 'params.top_k', min_p: 'params.min_p',
  repetition_penalty: 'params.repetition_penalty', presence_penalty: 'params.presence_penalty', frequency_penalty: 'params.frequency_penalty',
  seed: 'params.seed', max_tokens: 'params.max_tokens', stop: 'params.stop', stop_token_ids: 'params.stop_token_ids',
  logit_bias: 'params.logit_bias', top_logprobs: 'params.top_logprobs', logprobs: 'params.top_logprobs', echo: 'params.echo',
  response_format: 'params.constraint', guided_regex: 'params.constraint.regex', guided_choice: 'params.constraint.choice',
  parallel_tool_calls: 'tool_options.parallel_tool_calls',
};

/** OpenAI field prefixes → proto field paths (`tools[0].function.name` → `tools_json[0].function.name`), longest first. */
const PREFIX_PATHS: Array<[string, string]> = [
  ['tool_choice.function.name', 'tool_options.function_name'], ['tool_choice', 'tool_options.tool_choice'], ['tools', 'tools_json'],
];

function protoPath(param: string): string | undefined {
  if (PARAM_PATHS[param] !== undefined) return PARAM_PATHS[param];
  const prefix = PREFIX_PATHS.find(([from]) => param === from || param.startsWith(`${from}.`) || param.startsWith(`${from}[`));
  return prefix === undefined ? undefined : prefix[1] + param.slice(prefix[0].length);
}

/** params.constraint in the HTTP API's spelling (response_format / guided_*), so one validation checks both. */
function constraintBody(c: Constraint | undefined): Body {
  const kind = c?.kind;
  if (kind === undefined) return {};
  switch (kind.$case) {
    case 'jsonSchema':
      return { response_format: { type: 'json_schema', json_schema: { name: 'grpc', schema: parseJsonField(kind.value, 'params.constraint.json_schema') } } };
    case 'jsonObject':
      return kind.value ? { response_format: { type: 'json_object' } } : {};
    case 'regex':
      return { guided_regex: kind.value };
    case 'choice':
      return { guided_choice: kind.value.choices };
  }
}

/** tools_json / tool_options in the HTTP API's spelling. */
function toolsBody(toolsJson: string, options: ToolOptions | undefined): Body {
  if (toolsJson === '') return options ? { tool_choice: options.toolChoice || undefined } : {};
  const choice = options?.toolChoice === 'function' ? { type: 'function', function: { name: options.functionName } } : options?.toolChoice || undefined;
  return { tools: parseJsonField(toolsJson, 'tools_json'), tool_choice: choice, parallel_tool_calls: options?.parallelToolCalls };
}

function parseJsonField(json: string, field: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new FleetError('invalid_request', `${field}: not valid JSON`, { param: field });
  }
}

function samplingBody(p: SamplingParams | undefined): Body {
  if (!p) return {};
  const body: Body = {
    temperature: p.temperature, top_p: p.topP, top_k: p.topK, min_p: p.minP, repetition_penalty: p.repetitionPenalty,
    presence_penalty: p.presencePenalty, frequency_penalty: p.frequencyPenalty, seed: p.seed, max_tokens: p.maxTokens,
    skip_special_tokens: p.skipSpecialTokens,
  };
  if (p.stop.length > 0) body.stop = p.stop;
  if (p.stopTokenIds.length > 0) body.stop_token_ids = p.stopTokenIds;
  if (Object.keys(p.logitBias).length > 0) body.logit_bias = Object.fromEntries(Object.entries(p.logitBias).map(([k, v]) => [String(k), v]));
  if (p.ignoreEos) body.ignore_eos = true;
  if (p.includeStopStrInOutput) body.include_stop_str_in_output = true;
  return body;
}

function toolCalls(json: string, i: number): unknown {
  return json === '' ? undefined : parseJsonField(json, `messages[${i}].tool_calls_json`);
}

/** Renames a validation error's param (and the message's `param:` prefix) to the proto field path. */
export function protoFieldError(err: unknown): FleetError {
  const fe = asFleetError(err);
  const path = fe.param === undefined ? undefined : protoPath(fe.param);
  if (path === undefined || fe.param === undefined) return fe;
  const message = fe.message.startsWith(`${fe.param}:`) ? `${path}:${fe.message.slice(fe.param.length + 1)}` : fe.message;
  return new FleetError(fe.kind, message, { param: path, code: fe.code, retryAfterS: fe.retryAfterS, cause: fe });
}

function guarded<T>(validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    throw protoFieldError(err);
  }
}

export function validChat(req: ChatRequest, limits: RequestLimits): ValidChatRequest {
  if (req.params?.echo) throw new FleetError('invalid_request', 'params.echo: is only supported by Complete', { param: 'params.echo' });
  const top = req.params?.topLogprobs;
  const body: Body = {
    ...samplingBody(req.params),
    ...guarded(() => constraintBody(req.params?.constraint)),
    ...guarded(() => toolsBody(req.toolsJson, req.toolOptions)),
    model: req.model,
    messages: req.messages.map((m, i) => ({
      role: m.role, content: m.content, name: m.name || undefined, tool_call_id: m.toolCallId || undefined, tool_calls: toolCalls(m.toolCallsJson, i),
    })),
    n: req.n === 0 ? undefined : req.n,
    stream: true,
    logprobs: top !== undefined ? true : undefined,
    top_logprobs: top,
    conv_template: req.convTemplate || undefined,
    add_generation_prompt: req.addGenerationPrompt,
  };
  return guarded(() => validateChatRequest(body, limits));
}

export function validCompletion(req: CompletionRequest, limits: RequestLimits): ValidCompletionRequest {
  const body: Body = {
    ...samplingBody(req.params),
    model: req.model,
    prompt: req.prompt,
    n: req.n === 0 ? undefined : req.n,
    stream: true,
    logprobs: req.params?.topLogprobs,
    echo: req.params?.echo ? true : undefined,
  };
  return guarded(() => validateCompletionRequest(body, limits));
}

export function validEmbeddings(req: EmbeddingsRequest): ValidEmbeddingRequest {
  return guarded(() => validateEmbeddingRequest({ model: req.model, input: req.input, normalize: req.normalize, dimensions: req.dimensions }));
}
