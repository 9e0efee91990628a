/** One conversation on screen: a heading and a log of messages; the answer being streamed grows in place. */
import { h, replaceChildren } from './dom';
import type { Message } from './wire';

const WHO: Record<Message['role'], string> = { user: 'You', assistant: 'Assistant', system: 'System' };

let nextId = 0;

export class ConversationView {
  readonly element: HTMLElement;
  private readonly heading: HTMLHeadingElement;
  private readonly log: HTMLDivElement;
  private readonly empty: string;

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

  render(messages: Message[]): void {
    if (messages.length === 0) replaceChildren(this.log, h('p', { class: 'placeholder' }, this.empty));
    else replaceChildren(this.log, ...messages.map((m) => bubble(m.role, m.content)));
    this.scroll();
  }

  /** Adds an empty assistant message and returns a function that appends streamed text to it. */
  startAnswer(): (delta: string) => void {
    this.log.querySelector('.placeholder')?.remove();
    const text = h('div', { class: 'text' });
    const el = h('div', { class: 'msg msg-assistant streaming' }, h('span', { class: 'who' }, WHO.assistant), text);
    this.log.append(el);
    this.log.setAttribute('aria-busy', 'true');
    this.scroll();
    return (delta) => {
      text.append(delta);
      this.scroll();
    };
  }

  endAnswer(): void {
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

function bubble(role: Message['role'], content: string): HTMLElement {
  return h('div', { class: `msg msg-${role}` }, h('span', { class: 'who' }, WHO[role]), h('div', { class: 'text' }, content));
}
