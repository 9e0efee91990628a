/**
 * What the chat template receives for a request with tools. A Jinja template that knows tools (it mentions `tools`,
 * as Qwen2.5's, Llama 3.1's, Mistral's and Hermes' do) gets them as Hugging Face's apply_chat_template passes them,
 * with assistant `tool_calls` and `tool` messages as they are. A template without tool syntax (SmolLM2's, a plain
 * ChatML one) gets the tools the way the model's format documents them instead: a system message describing the
 * tools and the call format, earlier calls written as the model writes them, and tool results as user turns in
 * `<tool_response>` tags. FastChat templates have no tool syntax at all: such a request is a 400, unless the model
 * also has a Jinja template, which is then used for it.
 */
import { FleetError } from '../../common/errors';
import type { TemplateSelection } from '../../chat/select';
import { toolsForTemplate, type ToolFunction } from '../../chat/tools';
import type { WireMessage } from '../loader/prompt';
import type { ToolFormat } from './formats';
import type { RequestTools } from './request-tools';

interface WireToolCall {
  id?: string;
  type: 'function';
  function: { name: string; arguments: unknown };
}

export function templateKnowsTools(selection: TemplateSelection): boolean {
  if (selection.kind !== 'jinja') return false;
  return /\btools\b/.test(selection.namedChatTemplates.tool_use ?? selection.chatTemplate);
}

/** JSON on one line with ", " and ": " separators (Python's json.dumps, and what the forced grammar writes). */
export function oneLineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLineJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}: ${oneLineJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The calls as the model writes them (the envelope its forced grammar also produces). */
export function writeCalls(format: ToolFormat, calls: readonly WireToolCall[]): string {
  const f = format.forced;
  const envelopes = calls.map((c) => {
    let args = c.function.arguments;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args) as unknown;
      } catch {
        // a client's malformed arguments are shown as they were sent
      }
    }
    return `${f.callOpen}${oneLineJson({ name: c.function.name, [format.argumentKey]: args })}${f.callClose}`;
  });
  return `${f.open}${envelopes.join(f.separator)}${f.close}`;
}

/** How each format tells a model about its tools when the template cannot. */
function systemText(format: ToolFormat, functions: readonly ToolFunction[]): string {
  const list = JSON.stringify(toolsForTemplate(functions));
  const example = writeCalls(format, [{ type: 'function', function: { name: 'function_name', arguments: { argument: 'value' } } }]);
  switch (format.name) {
    case 'smollm2':
      return (
        'You are an expert in composing functions. You are given a question and a set of possible functions. ' +
        'Based on the question, make one or more function calls to achieve the purpose. ' +
        'If none of the functions can be used, point it out. If the question lacks parameters a function requires, point it out.\n' +
        `You have access to the following tools:\n<tools>${list}</tools>\n\n` +
        'To call functions, the output must strictly follow this format, with no other text; make sure the parameter types are correct:\n' +
        '<tool_call>[\n{"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},\n... (more tool calls as required)\n]</tool_call>'
      );
    case 'llama3_json':
      return (
        'You have access to the following functions. To call a function, respond only with JSON in the format ' +
        `{"name": function name, "parameters": dictionary of argument names and values}, for example ${example}. Do not use variables.\n\n${list}`
      );
    default:
      return (
        'You may call one or more of the functions described here to answer the user. ' +
        `Here are the available tools: <tools>${list}</tools>\nTo call functions, write them exactly like this:\n${example}`
      );
  }
}

/**
 * The messages (and tools) for a template without tool syntax: the tool description joins the system message,
 * assistant calls become text in the model's format, runs of tool results become one user turn.
 */
function rewriteForPlainTemplate(format: ToolFormat, messages: WireMessage[], tools: RequestTools | undefined): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of messages) {
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      const text = writeCalls(format, m.tool_calls as WireToolCall[]);
      const content = typeof m.content === 'string' && m.content !== '' ? `${m.content}\n${text}` : text;
      out.push({ role: 'assistant', content });
    } else if (m.role === 'tool') {
      const result = `<tool_response>\n${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}\n</tool_response>`;
      const last = out[out.length - 1];
      if (last && last.role === 'user' && typeof last.content === 'string' && last.content.startsWith('<tool_response>')) last.content = `${last.content}\n${result}`;
      else out.push({ role: 'user', content: result });
    } else out.push(m);
  }
  if (!tools) return out;
  const system = systemText(format, tools.functions);
  if (out[0]?.role === 'system') return [{ ...out[0], content: `${String(out[0].content)}\n\n${system}` }, ...out.slice(1)];
  return [{ role: 'system', content: system }, ...out];
}

export interface ToolRenderInput {
  readonly messages: WireMessage[];
  readonly tools?: unknown[];
}

/**
 * The render input for a chat request with tools offered or tool turns in its conversation (wire-shaped messages,
 * see loader/prompt.ts), under the selected template.
 */
export function toolRenderInput(selection: TemplateSelection, wire: WireMessage[], tools: RequestTools | undefined, format: ToolFormat): ToolRenderInput {
  if (selection.kind === 'fastchat') {
    throw new FleetError('invalid_request', `${tools ? 'tools' : 'messages'}: this model uses FastChat's '${selection.templateName}' template, which has no tool syntax, and has no Jinja chat template; tools cannot be used with it`, { param: tools ? 'tools' : 'messages' });
  }
  if (templateKnowsTools(selection)) return { messages: wire, ...(tools ? { tools: toolsForTemplate(tools.functions) } : {}) };
  return { messages: rewriteForPlainTemplate(format, wire, tools) };
}
