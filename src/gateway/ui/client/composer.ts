/**
 * The message box under a chat: Enter sends, Shift+Enter starts a new line, Escape stops the answer being streamed.
 */
import { h } from './dom';

let nextId = 0;

export interface ComposerHandlers {
  onSend(text: string): void;
  onStop(): void;
}

export class Composer {
  readonly element: HTMLFormElement;
  readonly input: HTMLTextAreaElement;
  readonly sendButton: HTMLButtonElement;

  constructor(handlers: ComposerHandlers, placeholder = 'Type a message') {
    const id = `composer-${++nextId}`;
    const hintId = `${id}-hint`;
    this.input = h('textarea', { id, name: 'message', rows: 3, placeholder, 'aria-describedby': hintId, autocomplete: 'off' });
    this.sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send');
    this.element = h(
      'form',
      { class: 'composer' },
      h('label', { for: id, class: 'sr-only' }, 'Message'),
      this.input,
      this.sendButton,
      h('p', { id: hintId, class: 'hint' }, 'Enter to send, Shift+Enter for a new line, Escape to stop.'),
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (text !== '' && !this.sendButton.disabled) handlers.onSend(text);
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.element.requestSubmit();
      } else if (event.key === 'Escape') handlers.onStop();
    });
  }

  take(): string {
    const text = this.input.value.trim();
    this.input.value = '';
    return text;
  }

  putBack(text: string): void {
    if (this.input.value.trim() === '') this.input.value = text;
  }
}
