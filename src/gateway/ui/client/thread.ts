/**
 * A conversation's state in the page: its messages as shown, its stored id, where its answers stream from, and its
 * view. The server keeps the transcript: the page sends only the new user message (or asks to regenerate) and the
 * server records the answer it streams; after a failure the page reloads what the server kept.
 */
import { streamChat, type StreamResult } from './api';
import type { ConversationView } from './conversation-view';
import type { GenerationParams } from './params';
import type { Message } from './wire';

/** What one answer request adds to the sampling parameters. */
export type AnswerInput = { message: string } | { regenerate: true } | Record<string, never>;

export class Thread {
  messages: Message[] = [];
  conversationId: string | undefined;
  /** The arena endpoint that streams this conversation's next answer. */
  streamUrl: string | undefined;

  constructor(readonly view: ConversationView) {}

  reset(): void {
    this.messages = [];
    this.conversationId = undefined;
    this.streamUrl = undefined;
    this.view.render([]);
  }

  lastIsAnswer(): boolean {
    return this.messages.length > 0 && this.messages[this.messages.length - 1].role === 'assistant';
  }

  /** Something to (re)generate: an answer to replace, or a user message left without one. */
  canRegenerate(): boolean {
    return this.messages.length > 0;
  }

  /** Shows the messages the server kept (its wire role is a string: anything but system / user is an answer). */
  show(messages: ReadonlyArray<{ role: string; content: string }>): void {
    this.messages = messages.map((m) => ({ role: m.role === 'system' || m.role === 'user' ? m.role : 'assistant', content: m.content }));
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

  /** Streams the server's answer and appends it as shown (also a stopped, partial one). */
  async answer(params: GenerationParams, signal: AbortSignal, input: AnswerInput = {}): Promise<StreamResult> {
    const url = this.streamUrl;
    if (!url) throw new Error('no model to answer');
    const onText = this.view.startAnswer();
    try {
      const result = await streamChat(url, { ...params, ...input }, { signal, onText });
      this.messages.push({ role: 'assistant', content: result.text });
      return result;
    } finally {
      this.view.endAnswer();
    }
  }
}
