/** A tiny element builder: `h('button', {type: 'button', onclick: fn}, 'Send')`. Text is always set as text, never HTML. */

type Listener = (event: Event) => void;
export type AttrValue = string | number | boolean | undefined | null | Listener;
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A polite live region for short status messages (screen readers announce them). */
export function statusLine(className = 'status'): HTMLParagraphElement {
  return h('p', { class: className, role: 'status', 'aria-live': 'polite' });
}

export function setDisabled(disabled: boolean, ...controls: Array<HTMLButtonElement | HTMLSelectElement | HTMLTextAreaElement | HTMLInputElement>): void {
  for (const c of controls) c.disabled = disabled;
}
