/**
 * A conversation with tools, kept by the page: the arena's recorded conversations are plain text (the arena refuses
 * tools), so with tools on the page sends the whole transcript to the OpenAI endpoint, /v1/chat/completions, streamed
 * — the assistant's `tool_calls`, and each result the user types as a `tool` message with its `tool_call_id`.
 */
import { streamChat, type StreamResult } from './api';
import type { ConversationView } from './conversation-view';
import type { GenerationParams } from './params';
import type { ToolResultHandler } from './tool-card';
import type { ToolsRequest } from './tools-panel';
import type { ApiMessage, Message, ToolCall } from './wire';

export const CHAT_COMPLETIONS = '/v1/chat/completions';

export class DirectThread {
  readonly messages: Message[];

  constructor(
    readonly view: ConversationView,
    private readonly onToolResult: ToolResultHandler,
    carried: readonly Message[] = [],
  ) {
    this.messages = carried.map((m) => ({ ...m }));
  }

  render(): void {
    this.view.render(this.messages, this.onToolResult);
  }

  /** The last answer's calls that have no result yet (the next request needs them all). */
  pendingCalls(): ToolCall[] {
    const last = this.messages.findLastIndex((m) => m.role === 'assistant');
    if (last < 0) return [];
    const answered = new Set(this.messages.slice(last + 1).map((m) => m.tool_call_id));
    return (this.messages[last].tool_calls ?? []).filter((c) => !answered.has(c.id));
  }

  /** The conversation ends with tool results: the next answer continues after them. */
  afterToolResults(): boolean {
    return this.messages.at(-1)?.role === 'tool';
  }

  addUser(text: string): void {
    this.messages.push({ role: 'user', content: text });
    this.render();
  }

  /** Drops the message just added (its request failed before an answer). */
  dropLastUser(): void {
    if (this.messages.at(-1)?.role === 'user') this.messages.pop();
    this.render();
  }

  addToolResult(callId: string, content: string): void {
    const call = this.pendingCalls().find((c) => c.id === callId);
    if (call === undefined) return;
    this.messages.push({ role: 'tool', content, tool_call_id: callId, name: call.function.name });
    this.render();
  }

  /** Drops the last answer for Regenerate (with its calls; tool results already given stay, and are answered again). */
  dropLastAnswer(): void {
    if (this.messages.at(-1)?.role === 'assistant') this.messages.pop();
    this.render();
  }

  /** Streams the next answer (text and call cards grow as deltas come) and appends it, also a stopped, partial one. */
  async answer(model: string, params: GenerationParams, tools: ToolsRequest | undefined, signal: AbortSignal): Promise<StreamResult> {
    const onText = this.view.startAnswer();
    let result: StreamResult;
    try {
      const body = { model, messages: this.messages.map(apiMessage), stream: true, ...params, ...(tools ?? {}) };
      result = await streamChat(CHAT_COMPLETIONS, body, { signal, onText, onToolCall: (d) => this.view.toolCallDelta(d) });
    } finally {
      this.view.endAnswer();
    }
    // A stopped answer keeps its text; calls cut off mid-stream are dropped (their arguments are incomplete).
    const calls = result.stopped ? [] : result.toolCalls.filter((c) => c.id !== '' && c.function.name !== '');
    this.messages.push({ role: 'assistant', content: result.text, ...(calls.length > 0 ? { tool_calls: calls } : {}), finish_reason: result.finishReason ?? undefined });
    this.render();
    return result;
  }
}

function apiMessage(m: Message): ApiMessage {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', content: m.content, tool_call_id: m.tool_call_id ?? '' };
    case 'assistant':
      return m.tool_calls && m.tool_calls.length > 0 ? { role: 'assistant', content: m.content === '' ? null : m.content, tool_calls: m.tool_calls } : { role: 'assistant', content: m.content };
    default:
      return { role: m.role, content: m.content };
  }
}
