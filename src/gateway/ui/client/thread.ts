/** A conversation's state in the page: its messages, its stored id, where its answers stream from, and its view. */
import { sendJson, streamChat, type StreamResult } from './api';
import type { ConversationView } from './conversation-view';
import type { GenerationParams } from './params';
import type { Message } from './wire';

/** An OpenAI chat-completions endpoint; `model` is left out for an anonymous battle side (the server knows it). */
export interface StreamTarget {
  url: string;
  model?: string;
}

export class Thread {
  messages: Message[] = [];
  conversationId: string | undefined;
  target: StreamTarget | undefined;

  constructor(readonly view: ConversationView) {}

  reset(): void {
    this.messages = [];
    this.conversationId = undefined;
    this.target = undefined;
    this.view.render([]);
  }

  lastIsAnswer(): boolean {
    return this.messages.length > 0 && this.messages[this.messages.length - 1].role === 'assistant';
  }

  snapshot(): Message[] {
    return this.messages.slice();
  }

  restore(messages: Message[]): void {
    this.messages = messages.slice();
    this.view.render(this.messages);
  }

  addUser(text: string): void {
    this.messages.push({ role: 'user', content: text });
    this.view.render(this.messages);
  }

  dropLastAnswer(): void {
    if (this.lastIsAnswer()) this.messages.pop();
    this.view.render(this.messages);
  }

  /** Streams an answer to the messages so far and appends it (also a stopped, partial one). */
  async answer(params: GenerationParams, signal: AbortSignal): Promise<StreamResult> {
    const target = this.target;
    if (!target) throw new Error('no model to answer');
    const onText = this.view.startAnswer();
    try {
      const body = { ...(target.model === undefined ? {} : { model: target.model }), messages: this.messages, stream: true, ...params };
      const result = await streamChat(target.url, body, { signal, onText });
      this.messages.push({ role: 'assistant', content: result.text });
      return result;
    } finally {
      this.view.endAnswer();
    }
  }

  /** Stores the messages with the conversation (needed before feedback or a vote on this turn). */
  async save(): Promise<void> {
    if (this.conversationId === undefined) return;
    await sendJson('PUT', `/arena/conversations/${encodeURIComponent(this.conversationId)}/messages`, { messages: this.messages });
  }
}
