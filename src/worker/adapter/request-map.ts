/**
 * A `GenerateRequest` as the body of an upstream OpenAI-compatible call: chat input goes to /chat/completions,
 * a text prompt or token ids to /completions. Sampling limits are checked with the same table as the ONNX engine;
 * fields the upstream cannot honour are refused by name (`invalid_request` with `param`).
 */
import { FleetError } from '../../common/errors';
import type { ChatInput, GenerateRequest, SamplingParams } from '../../common/gen/worker';
import { resolveSamplingParams } from '../sampling/params';
import type { Dialect, ExtraField } from './dialects';

export interface UpstreamCall {
  endpoint: 'chat' | 'completions';
  body: Record<string, unknown>;
}

/** Token ids are checked against this bound only (the upstream's vocabulary is not known here). */
const ANY_VOCAB = 1 << 24;

function refuse(param: string, why: string): never {
  throw new FleetError('invalid_request', `${param}: ${why}`, { param, code: 'unsupported_by_upstream' });
}

function toMessages(chat: ChatInput, dialect: Dialect): Array<Record<string, unknown>> {
  if (chat.convTemplate) refuse('conv_template', `the upstream ${dialect.api} server applies its own chat template`);
  if (!chat.addGenerationPrompt) refuse('add_generation_prompt', `the upstream ${dialect.api} server always opens an assistant turn`);
  return chat.messages.map((m) => {
    const out: Record<string, unknown> = { role: m.role, content: m.content };
    if (m.name) out.name = m.name;
    if (m.toolCallId) out.tool_call_id = m.toolCallId;
    if (m.toolCallsJson) out.tool_calls = parseJson(m.toolCallsJson, 'tool_calls');
    return out;
  });
}

function parseJson(text: string, param: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FleetError('invalid_request', `${param}: not valid JSON`, { param });
  }
}

/** Adds an extra (non-OpenAI) field when the dialect has it, else refuses it by name. */
function extra(body: Record<string, unknown>, dialect: Dialect, field: ExtraField, value: unknown): void {
  const key = dialect.extras[field];
  if (key === undefined) refuse(field, `not supported by the upstream ${dialect.api} server`);
  body[key] = value;
}

/** The sampling fields the request set, in the upstream's names. Unset fields are left to the upstream's defaults. */
export function samplingBody(p: SamplingParams | undefined, dialect: Dialect): Record<string, unknown> {
  if (!p) return {};
  resolveSamplingParams([p], ANY_VOCAB); // the limits table: same messages as the ONNX engine
  const body: Record<string, unknown> = {};
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.topP !== undefined) body.top_p = p.topP;
  if (p.presencePenalty !== undefined) body.presence_penalty = p.presencePenalty;
  if (p.frequencyPenalty !== undefined) body.frequency_penalty = p.frequencyPenalty;
  if (p.seed !== undefined) body.seed = p.seed;
  if (p.maxTokens !== undefined) body.max_tokens = p.maxTokens;
  if (p.stop.length > 0) body.stop = p.stop;
  if (p.topK !== undefined && p.topK > 0) extra(body, dialect, 'top_k', p.topK);
  if (p.minP !== undefined && p.minP > 0) extra(body, dialect, 'min_p', p.minP);
  if (p.repetitionPenalty !== undefined && p.repetitionPenalty !== 1) extra(body, dialect, 'repetition_penalty', p.repetitionPenalty);
  if (p.ignoreEos) extra(body, dialect, 'ignore_eos', true);
  if (p.stopTokenIds.length > 0) extra(body, dialect, 'stop_token_ids', p.stopTokenIds);
  if (p.includeStopStrInOutput) extra(body, dialect, 'include_stop_str_in_output', true);
  // proto3 cannot tell an unset skip_special_tokens from false: pass it where the engine reads it, else the engine's
  // own default (skip) applies.
  if (!p.skipSpecialTokens && dialect.extras.skip_special_tokens) body[dialect.extras.skip_special_tokens] = false;
  if (Object.keys(p.logitBias).length > 0) extra(body, dialect, 'logit_bias', Object.fromEntries(Object.entries(p.logitBias).map(([k, v]) => [String(k), v])));
  if (p.topLogprobs !== undefined) refuse('top_logprobs', 'logprobs are not relayed from external engines yet');
  if (p.echo) refuse('echo', 'not supported through an external engine');
  if (p.constraint?.kind) refuse('response_format', 'constrained decoding is not relayed to external engines yet');
  return body;
}

/** tools / tool_choice / parallel_tool_calls for the upstream (it parses its model's calls; they are relayed as deltas). */
function toolFields(chat: ChatInput): Record<string, unknown> {
  if (!chat.toolsJson) return {};
  const out: Record<string, unknown> = { tools: parseJson(chat.toolsJson, 'tools') };
  const o = chat.toolOptions;
  if (o && o.toolChoice !== '') out.tool_choice = o.toolChoice === 'function' ? { type: 'function', function: { name: o.functionName } } : o.toolChoice;
  if (o?.parallelToolCalls !== undefined) out.parallel_tool_calls = o.parallelToolCalls;
  return out;
}

/** The upstream call for one request; `model` is the upstream's model name. */
export function toUpstreamCall(req: GenerateRequest, model: string, dialect: Dialect): UpstreamCall {
  const given = [req.prompt !== '', req.chat !== undefined, req.promptTokenIds.length > 0].filter(Boolean).length;
  if (given !== 1) throw new FleetError('invalid_request', 'exactly one of prompt, chat or prompt_token_ids must be set', { param: 'prompt' });
  const endpoint: UpstreamCall['endpoint'] = req.chat !== undefined ? 'chat' : 'completions';
  const body: Record<string, unknown> = { model, stream: true, ...samplingBody(req.params, dialect) };
  // Usage arrives in a last chunk without choices (OpenAI, vLLM, SGLang); engines without it get an estimate.
  body.stream_options = { include_usage: true };
  if (req.chat !== undefined) {
    body.messages = toMessages(req.chat, dialect);
    Object.assign(body, toolFields(req.chat));
  } else {
    body.prompt = req.prompt !== '' ? req.prompt : req.promptTokenIds;
  }
  return { endpoint, body };
}
