/**
 * The chat page's "Tools" panel: function definitions as OpenAI `tools` JSON (checked while typing, with a message
 * naming the field), `tool_choice` (auto, none, required or one of the functions) and `parallel_tool_calls`. With
 * tools on, the page talks to /v1/chat/completions itself (see direct-thread.ts).
 */
import { h } from './dom';
import { EXAMPLE_TOOLS, parseToolsText, type ToolChoice, type ToolDefinition, type ToolsCheck } from './tool-definitions';

/** The fields a request with tools adds. */
export interface ToolsRequest {
  tools: ToolDefinition[];
  tool_choice: ToolChoice;
  parallel_tool_calls: boolean;
}

const FUNCTION_PREFIX = 'function:';

export class ToolsPanel {
  readonly element: HTMLDetailsElement;
  private readonly toggle = h('input', { id: 'tools-on', type: 'checkbox', name: 'tools-on' });
  private readonly text = h('textarea', { id: 'tools-json', name: 'tools', rows: 12, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'tools-check' });
  private readonly check = h('p', { id: 'tools-check', class: 'tools-check', 'aria-live': 'polite' });
  private readonly choice = h('select', { id: 'tools-choice', name: 'tool_choice' });
  private readonly parallel = h('input', { id: 'tools-parallel', type: 'checkbox', name: 'parallel_tool_calls', checked: true });
  private state: ToolsCheck;

  constructor(private readonly onChange: () => void) {
    const example = h('button', { type: 'button', onclick: () => this.insertExample() }, 'Insert example');
    this.element = h(
      'details',
      { class: 'tools' },
      h('summary', {}, 'Tools'),
      h('p', { class: 'hint' }, 'Offer functions the model may call. With tools on, the page sends the whole conversation to /v1/chat/completions itself: it is kept in this page only (not recorded, no rating). Forced choices (required, a function) apply to your message; the answer after tool results uses auto.'),
      h('div', { class: 'tools-row' }, this.toggle, h('label', { for: 'tools-on' }, 'Offer these tools to the model')),
      h('label', { for: 'tools-json' }, 'Function definitions (OpenAI tools JSON)'),
      this.text,
      h('div', { class: 'tools-row' }, example),
      this.check,
      h('div', { class: 'param' }, h('label', { for: 'tools-choice' }, 'Tool choice'), this.choice),
      h('div', { class: 'tools-row' }, this.parallel, h('label', { for: 'tools-parallel' }, 'Parallel tool calls')),
    );
    this.state = parseToolsText('');
    this.text.addEventListener('input', () => this.revalidate());
    this.toggle.addEventListener('change', () => this.revalidate());
    this.choice.addEventListener('change', () => this.onChange());
    this.revalidate(false);
  }

  /** The user turned tools on. */
  get enabled(): boolean {
    return this.toggle.checked;
  }

  /** Tools are off, or on with definitions that pass the checks. */
  get valid(): boolean {
    return !this.enabled || this.state.ok;
  }

  /** Why the definitions cannot be sent ('' when they can, or tools are off). */
  get problem(): string {
    return this.enabled && !this.state.ok ? this.state.message : '';
  }

  /** The request fields, or undefined with tools off; after tool results a forced choice becomes auto. */
  request(afterToolResults: boolean): ToolsRequest | undefined {
    if (!this.enabled || !this.state.ok) return undefined;
    const value = this.choice.value;
    let choice: ToolChoice = value.startsWith(FUNCTION_PREFIX) ? { type: 'function', function: { name: value.slice(FUNCTION_PREFIX.length) } } : value === 'none' || value === 'required' ? value : 'auto';
    if (afterToolResults && choice !== 'none') choice = 'auto';
    return { tools: this.state.tools, tool_choice: choice, parallel_tool_calls: this.parallel.checked };
  }

  private insertExample(): void {
    this.text.value = EXAMPLE_TOOLS;
    this.toggle.checked = true;
    this.revalidate();
    this.text.focus();
  }

  private revalidate(notify = true): void {
    this.state = parseToolsText(this.text.value);
    const bad = this.enabled && !this.state.ok;
    if (bad) this.text.setAttribute('aria-invalid', 'true');
    else this.text.removeAttribute('aria-invalid');
    this.check.classList.toggle('error', bad);
    if (this.state.ok) {
      const names = this.state.tools.map((t) => t.function.name);
      this.check.textContent = `${names.length} function${names.length === 1 ? '' : 's'}: ${names.join(', ') || '(none)'}`;
    } else this.check.textContent = this.text.value.trim() === '' && !this.enabled ? '' : this.state.message;
    this.fillChoices(this.state.ok ? this.state.tools.map((t) => t.function.name) : []);
    if (notify) this.onChange();
  }

  /** auto / none / required and one entry per function; a chosen function that is gone falls back to auto. */
  private fillChoices(names: string[]): void {
    const keep = this.choice.value;
    const options: Array<[string, string]> = [['auto', 'auto (the model decides)'], ['none', 'none (no calls)'], ['required', 'required (at least one call)'], ...names.map((n): [string, string] => [`${FUNCTION_PREFIX}${n}`, `call ${n}`])];
    this.choice.replaceChildren(...options.map(([value, label]) => h('option', { value }, label)));
    this.choice.value = options.some(([value]) => value === keep) ? keep : 'auto';
  }
}
