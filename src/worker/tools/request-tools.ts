/**
 * A chat request's tools as the worker uses them: the definitions and tool_choice checked again (any gRPC client may
 * call the worker), the format that parses the output, and — for `required` or a named function — the grammar that
 * forces a valid call. `tool_choice: "none"` (or no tools) means no tools at all: none are shown to the model and
 * its output is not parsed for calls.
 */
import { FleetError } from '../../common/errors';
import type { ChatInput } from '../../common/gen/worker';
import { CONSTRAINT_LIMITS } from '../../common/request-limits';
import { parseToolChoice, parseToolDefinitions, type ToolChoice, type ToolFunction } from '../../chat/tools';
import type { GrammarSource } from '../grammar/sources';
import { forcedCallsSource } from './forced-grammar';
import type { ToolFormat } from './formats';

export interface RequestTools {
  readonly format: ToolFormat;
  readonly functions: readonly ToolFunction[];
  readonly choice: ToolChoice;
  readonly parallel: boolean;
  /** The grammar of the forced calls (`required` or a named function). */
  readonly forced?: GrammarSource;
}

function parseToolsJson(text: string): unknown {
  if (Buffer.byteLength(text) > CONSTRAINT_LIMITS.maxSchemaBytes) {
    throw new FleetError('invalid_request', `tools: is larger than ${CONSTRAINT_LIMITS.maxSchemaBytes} bytes`, { param: 'tools' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FleetError('invalid_request', 'tools: tools_json is not valid JSON', { param: 'tools' });
  }
}

/** The proto's ToolOptions as an OpenAI tool_choice value. */
function choiceValue(chat: ChatInput): unknown {
  const o = chat.toolOptions;
  if (!o || o.toolChoice === '') return undefined;
  if (o.toolChoice === 'function') return { type: 'function', function: { name: o.functionName } };
  return o.toolChoice;
}

/** The request's tools, or undefined when the model is not offered any. */
export function requestTools(chat: ChatInput, format: ToolFormat): RequestTools | undefined {
  const functions = chat.toolsJson === '' ? [] : parseToolDefinitions(parseToolsJson(chat.toolsJson));
  const choice = parseToolChoice(choiceValue(chat), functions);
  if (choice.kind === 'none' || functions.length === 0) return undefined;
  const parallel = chat.toolOptions?.parallelToolCalls ?? true;
  const base = { format, functions, choice, parallel };
  if (choice.kind === 'auto') return base;
  const offered = functions.map((tool, index) => ({ tool, index })).filter(({ tool }) => choice.kind === 'required' || tool.name === choice.name);
  // A named function is called exactly once (OpenAI's behaviour); `required` allows several when parallel.
  return { ...base, forced: forcedCallsSource({ format, functions: offered, parallel: choice.kind === 'required' && parallel }) };
}
