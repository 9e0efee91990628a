/** What the router shows: one element per page, refreshed each time the page is opened. */
import { getJson } from './api';
import { h } from './dom';

export interface Page {
  readonly title: string;
  readonly element: HTMLElement;
  /** Called every time the page is shown (load models, refresh data). */
  show(): Promise<void>;
}

export async function liveModels(): Promise<string[]> {
  return (await getJson<{ models: string[] }>('/arena/models')).models;
}

/** Fills a select with model names, keeping the current choice when it is still served. */
export function fillModelSelect(select: HTMLSelectElement, models: string[], preferred?: string): void {
  const keep = preferred ?? select.value;
  select.replaceChildren(...models.map((m) => h('option', { value: m }, m)));
  if (models.includes(keep)) select.value = keep;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function pageHeading(text: string): HTMLHeadingElement {
  return h('h1', { tabindex: -1 }, text);
}
