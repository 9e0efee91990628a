/**
 * OpenAI-style messages → a FastChat conversation, as FastChat's OpenAI server builds it (system messages set the
 * system message, user / assistant turns are appended after the template's few-shot examples, then an open
 * assistant slot), with clear errors for what FastChat's index-based separators cannot express.
 */
import { FleetError } from '../common/errors';
import type { ConvMessage, ConvTemplate } from './conv-template';
import { type Conversation, newConversation } from './conversation';
import type { ValidChatMessage } from './messages';

export interface ConversationRequest {
  readonly messages: readonly ValidChatMessage[];
  /** Append the open assistant slot (true for generation, false to render a finished conversation). */
  readonly addGenerationPrompt: boolean;
  /** System message used when `messages` has none (FastChat's `set_system_message`). */
  readonly systemMessage?: string;
}

function invalid(message: string): FleetError {
  return new FleetError('invalid_request', message, { param: 'messages' });
}

function checkToolFree(template: ConvTemplate, messages: readonly ValidChatMessage[]): void {
  const i = messages.findIndex((m) => m.role === 'tool' || m.toolCalls !== undefined);
  if (i < 0) return;
  throw invalid(
    `messages[${i}]: template '${template.name}' cannot express tool messages or tool calls; ` +
      "use the model's own chat template (template 'jinja') for tool use",
  );
}

/** Leading system messages (joined by "\n") and the index where the conversation proper starts. */
function splitSystem(messages: readonly ValidChatMessage[]): { system: string | undefined; start: number } {
  let start = 0;
  while (start < messages.length && messages[start].role === 'system') start += 1;
  const late = messages.findIndex((m, i) => i >= start && m.role === 'system');
  if (late >= 0) throw invalid(`messages[${late}]: a system message must come before the user and assistant turns`);
  const system = start === 0 ? undefined : messages.slice(0, start).map((m) => m.content ?? '').join('\n');
  return { system, start };
}

function checkTurn(template: ConvTemplate, m: ValidChatMessage, i: number, k: number): void {
  const expected = k % 2 === 0 ? 'user' : 'assistant';
  if (m.role !== expected) {
    const why = k === 0
      ? 'the conversation must start with a user message'
      : `two ${m.role} messages in a row`;
    throw invalid(`messages[${i}]: ${why}; template '${template.name}' alternates user and assistant turns`);
  }
  if (m.content === '') {
    throw invalid(`messages[${i}].content is empty; template '${template.name}' would render it as an open slot`);
  }
}

/** Builds the FastChat conversation for a request; throws FleetError('invalid_request', …, {param: 'messages'}). */
export function toConversation(template: ConvTemplate, request: ConversationRequest): Conversation {
  const { messages } = request;
  checkToolFree(template, messages);
  const { system, start } = splitSystem(messages);
  const turns = messages.slice(start);
  if (turns.length === 0) throw invalid('messages must contain at least one user message');
  turns.forEach((m, k) => checkTurn(template, m, start + k, k));
  const last = turns[turns.length - 1];
  if (request.addGenerationPrompt && last.role === 'assistant') {
    throw invalid(
      `messages[${messages.length - 1}]: the conversation ends with an assistant message, so there is nothing to generate ` +
        `with template '${template.name}' (render it without a generation prompt instead)`,
    );
  }
  const [userRole, assistantRole] = template.roles;
  const append: ConvMessage[] = turns.map((m) => [m.role === 'user' ? userRole : assistantRole, m.content]);
  if (request.addGenerationPrompt) append.push([assistantRole, null]);
  return newConversation(template, { systemMessage: system ?? request.systemMessage, append });
}
