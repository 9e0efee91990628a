/**
 * A FastChat conversation: a template plus a system message and `[role, text]` messages, rendered exactly as
 * FastChat's `Conversation.get_prompt()` does (including its odd behaviours), and cut into training segments.
 */
import type { ConvMessage, ConvTemplate } from './conv-template';
import { stopStringsOf } from './conv-template';
import { PythonError, pyFormat } from './python-strings';
import { type PromptSegment, SegmentBuilder } from './segments';
import { STYLE_RENDERERS } from './separator-styles';

export interface Conversation {
  readonly template: ConvTemplate;
  /** FastChat's `set_system_message()` value (the template's own message unless overridden). */
  readonly systemMessage: string;
  /** All messages, the template's few-shot examples included. */
  readonly messages: readonly ConvMessage[];
  /** Messages before this index are the template's few-shot examples (rendered, never trainable). */
  readonly exampleCount: number;
}

export interface ConversationInit {
  /** Overrides the template's system message (FastChat's `set_system_message`). */
  systemMessage?: string;
  /**
   * Replaces the whole message list (FastChat's `conv.messages = ...`), as the batch records do; when absent the
   * conversation starts with the template's few-shot examples.
   */
  messages?: readonly ConvMessage[];
  /** Messages appended after the template's few-shot examples (FastChat's `append_message`). */
  append?: readonly ConvMessage[];
}

/** FastChat's `get_conv_template(name)` followed by `set_system_message` / `append_message`. */
export function newConversation(template: ConvTemplate, init: ConversationInit = {}): Conversation {
  const base = init.messages ?? template.messages;
  return {
    template,
    systemMessage: init.systemMessage ?? template.systemMessage,
    messages: [...base, ...(init.append ?? [])],
    exampleCount: init.messages === undefined ? template.messages.length : 0,
  };
}

/** Who speaks message `index`: by role name when the template's roles differ, else by position (as FastChat's separators). */
function roleResolver(conv: Conversation): (index: number) => 'user' | 'assistant' {
  const [userRole, assistantRole] = conv.template.roles;
  return (index) => {
    const role = conv.messages[index]?.[0];
    if (userRole !== assistantRole) {
      if (role === assistantRole) return 'assistant';
      if (role === userRole) return 'user';
    }
    return index % 2 === 1 ? 'assistant' : 'user';
  };
}

function build(conv: Conversation): SegmentBuilder {
  const { template } = conv;
  if (template.sepStyle === null) throw new PythonError('ValueError', 'Invalid style: None');
  const builder = new SegmentBuilder(roleResolver(conv), conv.exampleCount);
  STYLE_RENDERERS[template.sepStyle](
    {
      name: template.name,
      systemPrompt: pyFormat(template.systemTemplate, { system_message: conv.systemMessage }),
      systemMessage: conv.systemMessage,
      roles: template.roles,
      messages: conv.messages,
      sep: template.sep,
      sep2: template.sep2,
    },
    builder,
  );
  return builder;
}

/** FastChat's `get_prompt()`, byte for byte. Throws PythonError where FastChat raises. */
export function getPrompt(conv: Conversation): string {
  return build(conv).text();
}

/** The prompt as segments (see segments.ts); their texts concatenate to `getPrompt(conv)`. */
export function getPromptSegments(conv: Conversation): PromptSegment[] {
  return build(conv).segments();
}

/** Stop strings of the conversation's template (always a list). */
export function conversationStops(conv: Conversation): string[] {
  return stopStringsOf(conv.template);
}
