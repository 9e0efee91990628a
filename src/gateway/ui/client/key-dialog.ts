/** A modal dialog to paste the gateway's API key (kept in localStorage; sent as `Authorization: Bearer`). */
import { h } from './dom';
import { loadKey, saveKey } from './key-store';

export class KeyDialog {
  readonly element: HTMLDialogElement;
  private readonly input = h('input', { id: 'api-key', type: 'password', name: 'api-key', autocomplete: 'off', spellcheck: 'false' });
  private readonly reason = h('p', { class: 'reason' });

  constructor(private readonly onSaved: () => void) {
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', {}, 'API key'),
      this.reason,
      h('label', { for: 'api-key' }, 'Key for this gateway'),
      this.input,
      h('p', { class: 'hint' }, 'Kept in this browser only (localStorage) and sent with every request.'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'save', class: 'primary' }, 'Save'),
        h('button', { type: 'submit', value: 'forget' }, 'Forget key'),
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel')),
    );
    this.element = h('dialog', { class: 'key-dialog', 'aria-labelledby': 'api-key-title' }, form);
    form.querySelector('h2')?.setAttribute('id', 'api-key-title');
    this.element.addEventListener('close', () => this.closed(this.element.returnValue));
  }

  open(reason = ''): void {
    if (this.element.open) return;
    this.reason.textContent = reason;
    this.input.value = loadKey();
    this.element.returnValue = '';
    this.element.showModal();
    this.input.focus();
  }

  private closed(action: string): void {
    if (action === 'save') saveKey(this.input.value.trim());
    else if (action === 'forget') saveKey('');
    else return;
    this.onSaved();
  }
}
