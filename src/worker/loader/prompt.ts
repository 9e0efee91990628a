/**
 * A request's prompt, built once for all its choices: chat messages rendered with the model's template and tokenized
 * (never a double BOS), a raw text prompt, or token ids. A plain chat (no tools offered, no tool turns) goes straight
 * from the proto messages to the template; only a chat with tools enters src/worker/tools.
 */
import { FleetError } from '../../common/errors';
import type { ChatInput, ChatMessage } from '../../common/gen/worker';
import { checkConvTemplateName } from '../../common/request-limits';
import { renderChat } from '../../chat/render';
import { selectTemplate, type TemplateSelection } from '../../chat/select';
import { encodePrompt, type LoadedTokenizer } from '../../chat/tokenizer';
import type { PreparedPrompt, PromptBuilder } from '../runtime';
import type { ToolFormat } from '../tools/formats';
import { requestTools } from '../tools/request-tools';
import { toolRenderInput, type ToolRenderInput } from '../tools/tool-prompt';

/** A message in OpenAI's wire shape, as the chat library's renderer reads (and validates) it. */
export type WireMessage = Record<string, unknown>;

function parseCalls(json: string, i: number): unknown[] {
  try {
    const calls = JSON.parse(json) as unknown;
    if (Array.isArray(calls)) return calls as unknown[];
  } catch {
    // reported below
  }
  throw new FleetError('invalid_request', `messages[${i}].tool_calls: not a JSON array of tool calls`, { param: `messages[${i}].tool_calls` });
}

/** Proto messages in OpenAI's wire shape (the chat library validates them while rendering). */
export function wireMessages(messages: readonly ChatMessage[]): WireMessage[] {
  return messages.map((m, i) => {
    const calls = m.toolCallsJson ? parseCalls(m.toolCallsJson, i) : undefined;
    const out: WireMessage = { role: m.role, content: calls && m.content === '' ? null : m.content };
    if (m.name) out.name = m.name;
    if (m.toolCallId) out.tool_call_id = m.toolCallId;
    if (calls) out.tool_calls = calls;
    return out;
  });
}

/** Whether the conversation carries tool calls or tool results. */
export function hasToolHistory(messages: readonly WireMessage[]): boolean {
  return messages.some((m) => m.role === 'tool' || m.tool_calls !== undefined);
}

/** Whether the request offers tools or says how to use them (else the tools code is not entered). */
function mentionsTools(chat: ChatInput): boolean {
  return chat.toolsJson !== '' || chat.toolOptions !== undefined;
}

export interface PromptModel {
  tokenizer: LoadedTokenizer;
  /** The model's template (chosen at load time); a request's conv_template overrides it. */
  selection: TemplateSelection;
  vocabSize: number;
  names: string[];
  source: string;
  toolFormat: ToolFormat;
}

export function promptBuilder(model: PromptModel): PromptBuilder {
  const { tokenizer, vocabSize, names: modelNames, source, toolFormat } = model;
  const selections = new Map<string, TemplateSelection>([['', model.selection]]);
  const selectionFor = (raw: string): TemplateSelection => {
    // Keyed by the checked name, so the cache holds at most one entry per known template.
    const override = checkConvTemplateName(raw);
    let s = selections.get(override);
    if (!s) {
      s = selectTemplate({ modelPath: source, modelNames, override, tokenizerConfig: tokenizer.chat, peftBaseModel: tokenizer.peftBaseModel });
      selections.set(override, s);
    }
    return s;
  };
  const checkIds = (ids: number[]): void => {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new FleetError('invalid_request', `prompt token id ${id} is outside the vocabulary [0, ${vocabSize})`, { param: 'prompt_token_ids' });
    }
  };
  return {
    fromChat: (chat: ChatInput): PreparedPrompt => {
      const tools = mentionsTools(chat) ? requestTools(chat, toolFormat) : undefined;
      const messages = wireMessages(chat.messages);
      const toolTurns = tools !== undefined || hasToolHistory(messages);
      let chosen = selectionFor(chat.convTemplate);
      // FastChat templates have no tool syntax: a tool conversation uses the model's own Jinja template when it has one.
      if (toolTurns && chosen.kind === 'fastchat' && chat.convTemplate.trim() === '' && tokenizer.chat.chatTemplate !== null) chosen = selectionFor('jinja');
      const input: ToolRenderInput = toolTurns ? toolRenderInput(chosen, messages, tools, toolFormat) : { messages };
      const rendered = renderChat(chosen, { messages: input.messages, tools: input.tools, addGenerationPrompt: chat.addGenerationPrompt });
      return { ids: encodePrompt(tokenizer, rendered), text: rendered.text, stop: rendered.stop, stopTokenIds: rendered.stopTokenIds, tools };
    },
    fromText: (prompt: string): PreparedPrompt => {
      const ids = tokenizer.encode(prompt, { addSpecialTokens: true });
      return { ids, text: prompt, stop: [], stopTokenIds: [] };
    },
    fromTokenIds: (ids: number[]): PreparedPrompt => {
      checkIds(ids);
      return { ids, text: tokenizer.decode(ids), stop: [], stopTokenIds: [] };
    },
  };
}
