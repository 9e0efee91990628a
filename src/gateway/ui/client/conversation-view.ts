/**
 * One conversation on screen: a heading and a log of messages; the answer being streamed grows in place, text and
 * tool-call cards alike (tool-card.ts).
 */
import { h, replaceChildren } from './dom';
import { LiveToolCards, toolCallCard, toolResultBubble, type ToolResultHandler } from './tool-card';
import type { Message, ToolCallDelta } from './wire';

const WHO: Record<Message['role'], string> = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool' };

let nextId = 0;

export class ConversationView {
  readonly element: HTMLElement;
  private readonly heading: HTMLHeadingElement;
  private readonly log: HTMLDivElement;
  private readonly empty: string;
  private live: LiveToolCards | undefined;

  constructor(options: { title: string; empty: string; className?: string }) {
    const headingId = `conv-${++nextId}`;
    this.empty = options.empty;
    this.heading = h('h2', { id: headingId, class: 'pane-title' }, options.title);
    this.log = h('div', { class: 'log', role: 'log', 'aria-labelledby': headingId, tabindex: 0 });
    this.element = h('section', { class: `pane ${options.className ?? ''}`.trim(), 'aria-labelledby': headingId }, this.heading, this.log);
    this.render([]);
  }

  setTitle(title: string): void {
    this.heading.textContent = title;
  }

  /** Shows the messages; calls without a result get a result form when `onToolResult` is given. */
  render(messages: Message[], onToolResult?: ToolResultHandler): void {
    const answered = new Set(messages.flatMap((m) => (m.role === 'tool' && m.tool_call_id ? [m.tool_call_id] : [])));
    if (messages.length === 0) replaceChildren(this.log, h('p', { class: 'placeholder' }, this.empty));
    else replaceChildren(this.log, ...messages.map((m) => (m.role === 'tool' ? toolResultBubble(m) : bubble(m, answered, onToolResult))));
    this.scroll();
  }

  /** Moves the focus to the first empty result box (after an answer that called tools). */
  focusToolResult(): void {
    this.log.querySelector<HTMLTextAreaElement>('.tool-result-input')?.focus();
  }

  /** Adds an empty assistant message and returns a function that appends streamed text to it. */
  startAnswer(): (delta: string) => void {
    this.log.querySelector('.placeholder')?.remove();
    const text = h('div', { class: 'text' });
    const el = h('div', { class: 'msg msg-assistant streaming' }, h('span', { class: 'who' }, WHO.assistant), text);
    this.log.append(el);
    this.live = new LiveToolCards(el);
    this.log.setAttribute('aria-busy', 'true');
    this.scroll();
    return (delta) => {
      text.append(delta);
      this.scroll();
    };
  }

  /** Grows the tool-call cards of the answer being streamed. */
  toolCallDelta(delta: ToolCallDelta): void {
    this.live?.push(delta);
    this.scroll();
  }

  endAnswer(): void {
    this.live = undefined;
    this.log.removeAttribute('aria-busy');
    for (const el of this.log.querySelectorAll('.streaming')) el.classList.remove('streaming');
  }

  showError(message: string): void {
    this.log.append(h('p', { class: 'msg-error', role: 'alert' }, message));
    this.scroll();
  }

  private scroll(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

function bubble(m: Message, answered: ReadonlySet<string>, onToolResult: ToolResultHandler | undefined): HTMLElement {
  const calls = m.tool_calls ?? [];
  return h(
    'div',
    { class: `msg msg-${m.role}` },
    h('span', { class: 'who' }, WHO[m.role]),
    calls.length === 0 || m.content !== '' ? h('div', { class: 'text' }, m.content) : null,
    ...calls.map((c) => toolCallCard(c, answered.has(c.id) ? undefined : onToolResult)),
  );
}
