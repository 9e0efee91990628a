/**
 * Single-model chat: pick a model, chat with streamed answers, stop, regenerate, clear, and rate the last answer
 * (upvote / downvote / flag — stored with the conversation). The server records the conversation: the page sends
 * each new message and the server stores it with the answer it streams. With tools on (the Tools panel), the
 * conversation goes to /v1/chat/completions instead and is kept by the page (direct-thread.ts): calls show as cards,
 * the user types each result, and the model continues once every call of its answer has one.
 */
import { getJson, sendJson, type StreamResult } from './api';
import { Composer } from './composer';
import { ConversationView } from './conversation-view';
import { DirectThread } from './direct-thread';
import { h, setDisabled, statusLine } from './dom';
import { fillModelSelect, liveModels, messageOf, pageHeading, type Page } from './page';
import { ParamsPanel } from './params';
import { Thread, type AnswerInput } from './thread';
import { ToolsPanel } from './tools-panel';
import type { Conversation, Message } from './wire';

type FeedbackKind = 'upvote' | 'downvote' | 'flag';

export class ChatPage implements Page {
  readonly title = 'Chat';
  readonly element: HTMLElement;
  private readonly select = h('select', { id: 'chat-model', name: 'model' });
  private readonly thread = new Thread(new ConversationView({ title: 'Conversation', empty: 'Pick a model and send a message.' }));
  private readonly composer = new Composer({ onSend: (text) => void this.send(text), onStop: () => this.stop() });
  private readonly params = new ParamsPanel();
  private readonly tools = new ToolsPanel(() => this.update());
  private readonly status = statusLine();
  private readonly stopButton = h('button', { type: 'button', onclick: () => this.stop() }, 'Stop');
  private readonly regenerateButton = h('button', { type: 'button', onclick: () => void this.regenerate() }, 'Regenerate');
  private readonly clearButton = h('button', { type: 'button', onclick: () => this.clear() }, 'Clear');
  private readonly feedbackButtons: Record<FeedbackKind, HTMLButtonElement>;
  private controller: AbortController | undefined;
  private rated = false;
  /** The conversation with tools, once tools were on for a message (until Clear). */
  private direct: DirectThread | undefined;

  constructor() {
    const fb = (kind: FeedbackKind, label: string, icon: string): HTMLButtonElement =>
      h('button', { type: 'button', class: `feedback-${kind}`, onclick: () => void this.feedback(kind) }, h('span', { 'aria-hidden': 'true' }, icon), ` ${label}`);
    this.feedbackButtons = { upvote: fb('upvote', 'Upvote', '▲'), downvote: fb('downvote', 'Downvote', '▼'), flag: fb('flag', 'Flag', '⚑') };
    this.select.addEventListener('change', () => this.clear());
    this.element = h(
      'section',
      { class: 'page chat-page' },
      pageHeading('Chat with a model'),
      h('div', { class: 'toolbar' }, h('label', { for: 'chat-model' }, 'Model'), this.select),
      this.thread.view.element,
      this.composer.element,
      h('div', { class: 'actions', role: 'group', 'aria-label': 'Conversation' }, this.stopButton, this.regenerateButton, this.clearButton),
      h('div', { class: 'actions', role: 'group', 'aria-label': 'Rate the last answer' }, ...Object.values(this.feedbackButtons)),
      this.status,
      this.params.element,
      this.tools.element,
    );
    this.update();
  }

  async show(): Promise<void> {
    try {
      const models = await liveModels();
      fillModelSelect(this.select, models);
      this.status.textContent = models.length === 0 ? 'No model is being served right now.' : '';
    } catch (err) {
      this.status.textContent = `Cannot list the models: ${messageOf(err)}`;
    }
    this.update();
  }

  private get busy(): boolean {
    return this.controller !== undefined;
  }

  private update(): void {
    const direct = this.direct;
    const messages = direct?.messages ?? this.thread.messages;
    const pending = direct !== undefined && direct.pendingCalls().length > 0;
    setDisabled(this.busy || this.select.value === '' || !this.tools.valid || pending, this.composer.sendButton);
    setDisabled(this.busy, this.select);
    setDisabled(!this.busy, this.stopButton);
    setDisabled(this.busy || messages.length === 0, this.regenerateButton);
    setDisabled(this.busy || messages.length === 0, this.clearButton);
    // A conversation with tools is not recorded: nothing to rate.
    setDisabled(this.busy || direct !== undefined || !this.thread.lastIsAnswer() || this.rated, ...Object.values(this.feedbackButtons));
  }

  private async send(text: string): Promise<void> {
    if (this.busy) return;
    if (this.direct !== undefined || this.tools.enabled) return this.sendDirect(text);
    const before = this.thread.messages.slice();
    this.composer.take();
    this.status.textContent = '';
    this.controller = new AbortController();
    this.update();
    try {
      if (this.thread.conversationId === undefined) {
        const conversation = await sendJson<Conversation>('POST', '/arena/conversations', { model: this.select.value });
        this.thread.conversationId = conversation.id;
        this.thread.streamUrl = `/arena/conversations/${encodeURIComponent(conversation.id)}/chat/completions`;
      }
      this.thread.addUser(text);
      await this.runAnswer({ message: text });
    } catch (err) {
      await this.fail(err, before.length, text);
    }
  }

  private async regenerate(): Promise<void> {
    if (this.direct !== undefined) return this.regenerateDirect();
    if (this.busy || !this.thread.canRegenerate()) return;
    const before = this.thread.messages.length;
    this.thread.dropLastAnswer();
    this.controller = new AbortController();
    this.update();
    try {
      await this.runAnswer({ regenerate: true });
    } catch (err) {
      await this.fail(err, before);
    }
  }

  private async runAnswer(input: AnswerInput): Promise<void> {
    const controller = this.controller ?? new AbortController();
    const result = await this.thread.answer(this.params.values(), controller.signal, input);
    this.controller = undefined;
    this.rated = false;
    this.status.textContent = result.stopped ? 'Stopped.' : result.finishReason === 'length' ? 'The answer reached the token limit.' : '';
    this.update();
  }

  /** Shows what the server kept (the message may have been recorded before the answer failed). */
  private async fail(err: unknown, shownBefore: number, text?: string): Promise<void> {
    this.controller = undefined;
    const id = this.thread.conversationId;
    let kept: Message[] | undefined;
    if (id !== undefined) kept = await getJson<Conversation>(`/arena/conversations/${encodeURIComponent(id)}`).then((c) => c.messages, () => undefined);
    if (kept !== undefined) this.thread.show(kept);
    if (text !== undefined && (kept === undefined || kept.length <= shownBefore)) this.composer.putBack(text);
    this.thread.view.showError(messageOf(err));
    this.status.textContent = 'The answer failed.';
    this.update();
  }

  private stop(): void {
    this.controller?.abort();
  }

  /** A message with tools: the conversation so far (also a recorded one) goes on in the page. */
  private async sendDirect(text: string): Promise<void> {
    if (!this.tools.valid) return;
    const direct = (this.direct ??= new DirectThread(this.thread.view, (id, result) => void this.toolResult(id, result), this.thread.messages));
    this.composer.take();
    direct.addUser(text);
    await this.runDirect(false, text);
  }

  private async toolResult(callId: string, result: string): Promise<void> {
    const direct = this.direct;
    if (direct === undefined || this.busy) return;
    direct.addToolResult(callId, result);
    if (direct.pendingCalls().length > 0) {
      this.status.textContent = 'Result kept. Give the other calls their results to continue.';
      direct.view.focusToolResult();
      this.update();
      return;
    }
    await this.runDirect(true);
  }

  private async regenerateDirect(): Promise<void> {
    const direct = this.direct;
    if (direct === undefined || this.busy || direct.messages.length === 0) return;
    direct.dropLastAnswer();
    await this.runDirect(direct.afterToolResults());
  }

  /** Streams the next answer of the conversation with tools; `text` is put back in the composer if it fails. */
  private async runDirect(afterToolResults: boolean, text?: string): Promise<void> {
    const direct = this.direct;
    if (direct === undefined) return;
    this.controller = new AbortController();
    this.status.textContent = '';
    this.update();
    let result: StreamResult | undefined;
    try {
      result = await direct.answer(this.select.value, this.params.values(), this.tools.request(afterToolResults), this.controller.signal);
    } catch (err) {
      if (text !== undefined) {
        direct.dropLastUser();
        this.composer.putBack(text);
      }
      direct.view.showError(messageOf(err));
    }
    this.controller = undefined;
    this.rated = false;
    const calls = direct.pendingCalls();
    if (result === undefined) this.status.textContent = 'The answer failed.';
    else if (calls.length > 0) {
      const names = [...new Set(calls.map((c) => c.function.name))].join(', ');
      this.status.textContent = `The model called ${names}. Type the result${calls.length > 1 ? 's' : ''} to continue.`;
      direct.view.focusToolResult();
    } else this.status.textContent = result.stopped ? 'Stopped.' : result.finishReason === 'length' ? 'The answer reached the token limit.' : '';
    this.update();
  }

  private clear(): void {
    if (this.busy) return;
    this.direct = undefined;
    this.thread.reset();
    this.rated = false;
    this.status.textContent = '';
    this.update();
  }

  private async feedback(kind: FeedbackKind): Promise<void> {
    const id = this.thread.conversationId;
    if (id === undefined || this.rated) return;
    this.rated = true;
    this.update();
    try {
      await sendJson('POST', `/arena/conversations/${encodeURIComponent(id)}/feedback`, { kind });
      this.status.textContent = kind === 'flag' ? 'Thanks, the answer was flagged.' : `Thanks for your ${kind}.`;
    } catch (err) {
      this.rated = false;
      this.status.textContent = `Feedback not saved: ${messageOf(err)}`;
      this.update();
    }
  }
}
