/** Generation parameters shown under a chat (temperature, top_p, max tokens), as FastChat's "Parameters" panel. */
import { h } from './dom';

export interface GenerationParams {
  temperature: number;
  top_p: number;
  max_tokens: number;
}

interface Field {
  key: keyof GenerationParams;
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
}

const FIELDS: Field[] = [
  { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.1, value: 0.7 },
  { key: 'top_p', label: 'Top P', min: 0, max: 1, step: 0.05, value: 1 },
  { key: 'max_tokens', label: 'Max output tokens', min: 1, max: 4096, step: 1, value: 512 },
];

let nextId = 0;

export class ParamsPanel {
  readonly element: HTMLDetailsElement;
  private readonly inputs = new Map<keyof GenerationParams, HTMLInputElement>();

  constructor() {
    const rows = FIELDS.map((f) => {
      const id = `param-${f.key}-${++nextId}`;
      const input = h('input', { id, type: 'number', name: f.key, min: f.min, max: f.max, step: f.step, value: f.value, inputmode: 'decimal' });
      this.inputs.set(f.key, input);
      return h('div', { class: 'param' }, h('label', { for: id }, f.label), input);
    });
    this.element = h('details', { class: 'params' }, h('summary', {}, 'Parameters'), ...rows);
  }

  /** The values, each clamped to its range (an empty or invalid field falls back to its default). */
  values(): GenerationParams {
    const out = {} as GenerationParams;
    for (const f of FIELDS) {
      const raw = Number(this.inputs.get(f.key)?.value);
      const value = Number.isFinite(raw) && this.inputs.get(f.key)?.value !== '' ? Math.min(f.max, Math.max(f.min, raw)) : f.value;
      out[f.key] = f.key === 'max_tokens' ? Math.round(value) : value;
    }
    return out;
  }
}
