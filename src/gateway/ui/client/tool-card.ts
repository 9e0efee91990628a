/**
 * Tool calls on screen: a card per call (function name, call id, arguments — indented JSON once complete), the box
 * where the user types the call's result while it has none, and the tool result as its own message. While an answer
 * streams, LiveToolCards grows each card from OpenAI's tool_calls deltas (id and name first, then argument text).
 */
import { h } from './dom';
import { prettyArguments } from './tool-definitions';
import type { Message, ToolCall, ToolCallDelta } from './wire';

/** Called with a call's id and the result the user typed. */
export type ToolResultHandler = (callId: string, result: string) => void;

let nextId = 0;

function cardShell(name: string, id: string, args: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'tool-call', role: 'group', 'aria-label': `Tool call ${name}`, 'data-call-id': id },
    h('div', { class: 'tool-head' }, h('span', { class: 'tool-label' }, 'Tool call'), ' ', h('code', { class: 'tool-name' }, name), ' ', h('span', { class: 'tool-id' }, id)),
    args,
  );
}

/** The card of a finished call; with a handler, the form for its result. */
export function toolCallCard(call: ToolCall, onResult?: ToolResultHandler): HTMLElement {
  const pretty = prettyArguments(call.function.arguments);
  const card = cardShell(call.function.name, call.id, h('pre', { class: 'tool-args' }, pretty.text));
  if (!pretty.json) card.append(h('p', { class: 'tool-note' }, 'The arguments are not valid JSON.'));
  if (onResult) card.append(resultForm(call, onResult));
  return card;
}

function resultForm(call: ToolCall, onResult: ToolResultHandler): HTMLFormElement {
  const id = `tool-result-${++nextId}`;
  const input = h('textarea', { id, name: 'tool-result', rows: 2, class: 'tool-result-input', placeholder: 'What the function returned, e.g. {"temperature": 21}', 'aria-describedby': `${id}-hint`, autocomplete: 'off' });
  const send = h('button', { type: 'submit' }, 'Send result');
  const form = h(
    'form',
    { class: 'tool-result-form' },
    h('label', { for: id }, `Result of ${call.function.name}`),
    input,
    send,
    h('p', { id: `${id}-hint`, class: 'hint' }, 'Enter to send, Shift+Enter for a new line.'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === '' || send.disabled) return;
    send.disabled = true;
    onResult(call.id, text);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return form;
}

/** A tool result as a message of the conversation. */
export function toolResultBubble(message: Message): HTMLElement {
  return h(
    'div',
    { class: 'msg msg-tool' },
    h('span', { class: 'who' }, `Tool result${message.name ? ` · ${message.name}` : ''}`),
    message.tool_call_id ? h('span', { class: 'tool-id' }, message.tool_call_id) : null,
    h('div', { class: 'text' }, message.content),
  );
}

/** The cards of the answer being streamed, grown delta by delta. */
export class LiveToolCards {
  private readonly cards: Array<{ name: HTMLElement; id: HTMLElement; args: HTMLElement }> = [];

  constructor(private readonly parent: HTMLElement) {}

  push(delta: ToolCallDelta): void {
    let card = this.cards[delta.index];
    if (card === undefined) {
      const args = h('pre', { class: 'tool-args' });
      const el = cardShell(delta.function.name ?? '', delta.id ?? '', args);
      el.classList.add('streaming');
      card = { name: el.querySelector<HTMLElement>('.tool-name') ?? el, id: el.querySelector<HTMLElement>('.tool-id') ?? el, args };
      this.cards[delta.index] = card;
      this.parent.append(el);
    }
    if (delta.id) card.id.textContent = delta.id;
    if (delta.function.name) card.name.textContent = delta.function.name;
    if (delta.function.arguments) card.args.append(delta.function.arguments);
  }
}
