/**
 * The entry points the worker engine, the data pipelines and the judge call: render OpenAI-style messages with a
 * selected template into the prompt text plus its stop conditions, or into training segments.
 */
import { FleetError } from '../common/errors';
import { stopStringsOf } from './conv-template';
import { type Conversation, getPrompt, getPromptSegments } from './conversation';
import { type JinjaRequest, renderJinja } from './jinja';
import { jinjaSegments } from './jinja-segments';
import { parseChatMessages } from './messages';
import { PythonError } from './python-strings';
import type { PromptSegment } from './segments';
import type { FastChatSelection, JinjaSelection, TemplateSelection } from './select';
import { toConversation } from './to-conversation';

export interface ChatRenderRequest {
  /** OpenAI wire-format messages (`[{role, content, tool_calls?, …}]`), validated here. */
  readonly messages: unknown;
  /** OpenAI `tools` (`[{type: 'function', function: {...}}]`); only Jinja templates can express them. */
  readonly tools?: unknown;
  /** Open an assistant turn at the end. Default: true for renderChat, false for renderSegments. */
  readonly addGenerationPrompt?: boolean;
  /** System message when `messages` has none (FastChat templates only; the CLI's `system_message`). */
  readonly systemMessage?: string;
  /** Extra Jinja variables, e.g. `{enable_thinking: false}` (vLLM's `chat_template_kwargs`). */
  readonly chatTemplateKwargs?: Readonly<Record<string, unknown>>;
  /** Clock for templates that call `strftime_now` (default: now). */
  readonly now?: Date;
}

export interface RenderedChat {
  /** The prompt text, to be tokenized without adding special tokens (see addBosToken). */
  readonly text: string;
  /** Stop strings (FastChat's stop_str as a list; none for Jinja templates). */
  readonly stop: string[];
  /** Token ids that end generation: the template's stop_token_ids plus the model's EOS ids. */
  readonly stopTokenIds: number[];
  /** FastChat template name, or `jinja`. */
  readonly templateName: string;
  /**
   * Whether the caller must put the BOS token in front of the encoded text: true only for a FastChat template on a
   * tokenizer that adds BOS, when the text does not already start with it. Jinja templates write BOS themselves
   * (Hugging Face tokenizes chat templates without special tokens), so it is false for them. Never double BOS:
   * encode `text` with add_special_tokens = false and prepend BOS only when this is true.
   */
  readonly addBosToken: boolean;
  /** Whether `text` already starts with the tokenizer's BOS token string. */
  readonly startsWithBos: boolean;
}

function parseTools(value: unknown): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  const ok = Array.isArray(value) && value.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t));
  if (!ok) throw new FleetError('invalid_request', 'tools must be an array of tool objects', { param: 'tools' });
  return value.length === 0 ? undefined : value;
}

function fastchatConversation(selection: FastChatSelection, request: ChatRenderRequest, addGenerationPrompt: boolean): Conversation {
  if (parseTools(request.tools) !== undefined) {
    throw new FleetError('invalid_request', `template '${selection.templateName}' cannot express tools; use the model's own chat template (template 'jinja')`, {
      param: 'tools',
    });
  }
  return toConversation(selection.template, {
    messages: parseChatMessages(request.messages),
    addGenerationPrompt,
    systemMessage: request.systemMessage,
  });
}

/** FastChat raising at render time (a template with a missing separator) is a server-side template error. */
function withPythonErrors<T>(render: () => T): T {
  try {
    return render();
  } catch (err) {
    if (err instanceof PythonError) throw new FleetError('internal', `conversation template failed: ${err.pythonText}`, { cause: err });
    throw err;
  }
}

function jinjaRequest(selection: JinjaSelection, request: ChatRenderRequest, addGenerationPrompt: boolean): { source: string; request: JinjaRequest } {
  const tools = parseTools(request.tools);
  const source = (tools && selection.namedChatTemplates.tool_use) || selection.chatTemplate;
  return {
    source,
    request: {
      messages: parseChatMessages(request.messages),
      tools,
      addGenerationPrompt,
      specialTokens: selection.tokenizer.specialTokens,
      kwargs: request.chatTemplateKwargs,
      now: request.now,
    },
  };
}

function union(...lists: ReadonlyArray<readonly number[] | null>): number[] {
  return [...new Set(lists.flatMap((l) => l ?? []))];
}

function renderedText(selection: TemplateSelection, request: ChatRenderRequest, addGenerationPrompt: boolean): string {
  if (selection.kind === 'jinja') {
    const { source, request: jr } = jinjaRequest(selection, request, addGenerationPrompt);
    return renderJinja(source, jr);
  }
  const conv = fastchatConversation(selection, request, addGenerationPrompt);
  return withPythonErrors(() => getPrompt(conv));
}

/** Renders a chat request into the prompt text and its stop conditions. Bad input → FleetError('invalid_request'). */
export function renderChat(selection: TemplateSelection, request: ChatRenderRequest): RenderedChat {
  const text = renderedText(selection, request, request.addGenerationPrompt ?? true);
  const { tokenizer } = selection;
  const startsWithBos = tokenizer.bosToken !== null && tokenizer.bosToken !== '' && text.startsWith(tokenizer.bosToken);
  const fastchat = selection.kind === 'fastchat';
  return {
    text,
    stop: fastchat ? stopStringsOf(selection.template) : [],
    stopTokenIds: union(fastchat ? selection.template.stopTokenIds : null, tokenizer.eosTokenIds),
    templateName: selection.templateName,
    addBosToken: fastchat && tokenizer.addsBos && !startsWithBos,
    startsWithBos,
  };
}

/**
 * The same rendering cut into segments whose texts concatenate to `renderChat(...).text` (with the same
 * addGenerationPrompt). Assistant replies plus their end separator are trainable; see segments.ts.
 */
export function renderSegments(selection: TemplateSelection, request: ChatRenderRequest): PromptSegment[] {
  const addGenerationPrompt = request.addGenerationPrompt ?? false;
  if (selection.kind === 'jinja') {
    const { source, request: jr } = jinjaRequest(selection, request, addGenerationPrompt);
    return jinjaSegments(source, jr, selection.tokenizer.eosToken);
  }
  const conv = fastchatConversation(selection, request, addGenerationPrompt);
  return withPythonErrors(() => getPromptSegments(conv));
}
