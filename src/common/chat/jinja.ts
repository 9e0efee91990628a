/**
 * Hugging Face chat templates (Jinja) rendered with @huggingface/jinja, with the variables transformers'
 * `apply_chat_template` provides: `messages`, `tools`, `add_generation_prompt`, the special tokens by name
 * (`bos_token`, `eos_token`, …), `raise_exception`, `strftime_now`, plus caller kwargs (`enable_thinking`, …).
 */
import { Template } from '@huggingface/jinja';
import { FleetError } from '../errors';
import type { ValidChatMessage } from './messages';
import { strftime } from './strftime';

export interface JinjaRequest {
  readonly messages: readonly ValidChatMessage[];
  readonly tools?: readonly unknown[];
  readonly addGenerationPrompt: boolean;
  /** `bos_token`, `eos_token`, … as strings. */
  readonly specialTokens: Readonly<Record<string, string>>;
  /** Extra template variables (vLLM's `chat_template_kwargs`), e.g. `{enable_thinking: false}`. */
  readonly kwargs?: Readonly<Record<string, unknown>>;
  /** The clock `strftime_now` reads (default: now). */
  readonly now?: Date;
}

/** Raised by a template's own `raise_exception(...)`: the template refuses these messages. */
class TemplateRaised extends Error {}

const compiled = new Map<string, Template>();

/** Parses a chat template once (cached); a template that does not parse is a server-side error. */
export function compileChatTemplate(source: string): Template {
  let template = compiled.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (err) {
      throw new FleetError('internal', `the model's chat template does not parse: ${(err as Error).message}`, { cause: err });
    }
    compiled.set(source, template);
  }
  return template;
}

/** A message as templates see it: absent fields are left out (templates test `'tool_calls' in message`). */
function toTemplateMessage(m: ValidChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content ?? '' };
  if (m.name !== undefined) out.name = m.name;
  if (m.toolCalls !== undefined) out.tool_calls = m.toolCalls.map((c) => ({ ...c, function: { ...c.function } }));
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  if (m.reasoningContent !== undefined) out.reasoning_content = m.reasoningContent;
  return out;
}

function context(request: JinjaRequest): Record<string, unknown> {
  const now = request.now ?? new Date();
  const vars: Record<string, unknown> = {
    ...request.specialTokens,
    ...request.kwargs,
    messages: request.messages.map(toTemplateMessage),
    add_generation_prompt: request.addGenerationPrompt,
    raise_exception: (message: unknown): never => {
      throw new TemplateRaised(String(message));
    },
    strftime_now: (format: unknown): string => strftime(now, String(format)),
  };
  if (request.tools !== undefined) vars.tools = request.tools;
  return vars;
}

/** Renders a chat template; a template that rejects the messages gives FleetError('invalid_request'). */
export function renderJinja(source: string, request: JinjaRequest): string {
  const template = compileChatTemplate(source);
  try {
    return template.render(context(request));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const why = err instanceof TemplateRaised ? 'rejected the messages' : 'failed on the messages';
    throw new FleetError('invalid_request', `the model's chat template ${why}: ${message}`, { param: 'messages', cause: err });
  }
}
