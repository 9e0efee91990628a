/**
 * Hugging Face chat templates (Jinja) rendered with @huggingface/jinja, with the variables transformers'
 * `apply_chat_template` provides: `messages`, `tools`, `add_generation_prompt`, the special tokens by name
 * (`bos_token`, `eos_token`, …), `raise_exception`, `strftime_now`, plus caller kwargs (`enable_thinking`, …).
 */
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { FleetError } from '../common/errors';
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

/** Python's `range()` as Jinja exposes it. */
function range(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(i);
  return out;
}

/**
 * The variables a template sees. @huggingface/jinja's Template.render() cannot replace its own globals, so the
 * environment is built here: Jinja's constants and `range`, our `raise_exception` (so a template's refusal is
 * told apart from a template bug) and `strftime_now` (Python's C-locale strftime on an injectable clock).
 */
function context(request: JinjaRequest): Record<string, unknown> {
  const now = request.now ?? new Date();
  const vars: Record<string, unknown> = {
    true: true, false: false, none: null, True: true, False: false, None: null,
    range,
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

function run(template: Template, vars: Record<string, unknown>): string {
  const env = new Environment();
  for (const [name, value] of Object.entries(vars)) env.set(name, value);
  const result = new Interpreter(env).run(template.parsed);
  if (typeof result.value !== 'string') throw new Error('the template did not render to text');
  return result.value;
}

/** Renders a chat template; a template that rejects the messages gives FleetError('invalid_request'). */
export function renderJinja(source: string, request: JinjaRequest): string {
  const template = compileChatTemplate(source);
  try {
    return run(template, context(request));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const why = err instanceof TemplateRaised ? 'rejected the messages' : 'failed on the messages';
    throw new FleetError('invalid_request', `the model's chat template ${why}: ${message}`, { param: 'messages', cause: err });
  }
}
