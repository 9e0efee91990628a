/**
 * The pure parts of `fleetchat template list` and `fleetchat template render`: the table of templates and the
 * rendering of a conversation read from stdin, in either shape:
 *  - OpenAI: `{messages: [...], system_message?, tools?, add_generation_prompt?, chat_template_kwargs?}`
 *  - FastChat: `[[role, text|null], …]`, the template's whole message list, rendered by get_prompt() as is.
 */
import { FleetError } from '../common/errors';
import { listConvTemplates, stopStringsOf } from './conv-template';
import { type FastChatRecordResult, renderFastChatRecord } from './fastchat-records';
import { renderChat } from './render';
import type { TemplateSelection } from './select';

export interface TemplateListRow {
  readonly name: string;
  /** Separator style, or `-` for a template FastChat cannot render. */
  readonly style: string;
  readonly stop: string[];
  readonly stopTokenIds: number[];
}

export function templateListRows(): TemplateListRow[] {
  return listConvTemplates().map((t) => ({
    name: t.name,
    style: t.sepStyle ?? '-',
    stop: stopStringsOf(t),
    stopTokenIds: [...(t.stopTokenIds ?? [])],
  }));
}

/** Aligned text columns: NAME  STYLE  STOP (stop strings JSON-quoted so whitespace shows). */
export function formatTemplateTable(rows: readonly TemplateListRow[]): string {
  const cells = rows.map((r) => [r.name, r.style, [...r.stop.map((s) => JSON.stringify(s)), ...r.stopTokenIds.map(String)].join(' ')]);
  const all = [['NAME', 'STYLE', 'STOP'], ...cells];
  const widths = [0, 1].map((c) => Math.max(...all.map((row) => row[c].length)));
  return all.map((row) => `${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${row[2]}`.trimEnd()).join('\n') + '\n';
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** FastChat pairs go through the batch code path (same output as `--batch` with this template). */
function renderPairs(selection: TemplateSelection, input: unknown[]): FastChatRecordResult {
  if (selection.kind !== 'fastchat') {
    throw new FleetError('invalid_request', 'FastChat [role, text] pairs need a FastChat template; send {"messages": [...]} for a Jinja template');
  }
  return renderFastChatRecord({ template: selection.template.name, messages: input });
}

function optionalKwargs(value: unknown): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new FleetError('invalid_request', 'chat_template_kwargs must be an object', { param: 'chat_template_kwargs' });
  return value;
}

function renderOpenAI(selection: TemplateSelection, input: JsonObject): FastChatRecordResult {
  const sys = input.system_message;
  if (sys !== undefined && sys !== null && typeof sys !== 'string') {
    throw new FleetError('invalid_request', 'system_message must be a string', { param: 'system_message' });
  }
  const addGen = input.add_generation_prompt;
  if (addGen !== undefined && typeof addGen !== 'boolean') {
    throw new FleetError('invalid_request', 'add_generation_prompt must be a boolean', { param: 'add_generation_prompt' });
  }
  const rendered = renderChat(selection, {
    messages: input.messages,
    tools: input.tools,
    addGenerationPrompt: addGen,
    systemMessage: typeof sys === 'string' ? sys : undefined,
    chatTemplateKwargs: optionalKwargs(input.chat_template_kwargs),
  });
  return { template: rendered.templateName, prompt: rendered.text, stop_str: rendered.stop, stop_token_ids: rendered.stopTokenIds, error: null };
}

/** Renders one conversation read from stdin (either shape) with the selected template. */
export function renderConversationInput(selection: TemplateSelection, input: unknown): FastChatRecordResult {
  if (Array.isArray(input)) return renderPairs(selection, input);
  if (isObject(input) && 'messages' in input) return renderOpenAI(selection, input);
  throw new FleetError('invalid_request', 'expected {"messages": [...]} (OpenAI) or [[role, text], ...] (FastChat) on stdin', { param: 'messages' });
}
