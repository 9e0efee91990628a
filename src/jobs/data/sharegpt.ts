/**
 * ShareGPT records, the format of FastChat's training data:
 * `{"id": "...", "conversations": [{"from": "human", "value": "..."}, {"from": "gpt", "value": "..."}], ...}`.
 * Other top-level fields (`model`, `plugins`, …) and other turn fields are kept as they are.
 */

export interface ShareGptTurn {
  from: string;
  value: string;
  [field: string]: unknown;
}

export interface ValidShareGpt {
  id?: string | number;
  conversations: ShareGptTurn[];
  [field: string]: unknown;
}

export type ShareGptCheck = { ok: true; record: ValidShareGpt } | { ok: false; detail: string };

/** FastChat's role names: `human` asks, `gpt` answers. */
export const HUMAN = 'human';
export const GPT = 'gpt';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkTurn(turn: unknown, i: number): string | undefined {
  if (!isObject(turn)) return `conversations[${i}] is not an object`;
  if (typeof turn.from !== 'string') return `conversations[${i}].from is not a string`;
  if (typeof turn.value !== 'string') return `conversations[${i}].value is not a string`;
  return undefined;
}

/** Checks the shape of a parsed record (an object with an optional string/number id and a list of turns). */
export function checkShareGpt(value: unknown): ShareGptCheck {
  if (!isObject(value)) return { ok: false, detail: 'record is not a JSON object' };
  const { id, conversations } = value;
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') return { ok: false, detail: 'id is not a string' };
  if (!Array.isArray(conversations)) return { ok: false, detail: 'conversations is missing or not a list' };
  for (let i = 0; i < conversations.length; i++) {
    const problem = checkTurn(conversations[i], i);
    if (problem) return { ok: false, detail: problem };
  }
  return { ok: true, record: value as ValidShareGpt };
}

/** The id used in reports: the record's own id, or `#<index>` when it has none. */
export function recordLabel(value: unknown, index: number): string {
  if (isObject(value) && (typeof value.id === 'string' || typeof value.id === 'number')) return String(value.id);
  return `#${index}`;
}

/** True when turns alternate human, gpt, human, … from the first one (FastChat's valid format). */
export function rolesAlternate(turns: readonly ShareGptTurn[]): boolean {
  return turns.every((t, i) => t.from === (i % 2 === 0 ? HUMAN : GPT));
}
