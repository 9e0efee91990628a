/**
 * FastChat's cleaned battle-log format (`fastchat/serve/monitor/clean_battle_data.py`): one JSON object per vote,
 * `{question_id, model_a, model_b, winner, judge, conversation_a, conversation_b, turn, anony, language, tstamp}`,
 * where `winner` is `model_a`, `model_b`, `tie` or `tie (bothbad)`. The files are a JSON array (FastChat's
 * `json.dump`) or JSON lines. This module validates one record (pure) and builds records back (export).
 */
import { isJsonObject, type JsonObject, type JsonValue } from './json-value';

export const WINNERS = ['model_a', 'model_b', 'tie', 'tie (bothbad)'] as const;
export type Winner = (typeof WINNERS)[number];

/** The fields this module interprets; every other top-level field of a record is kept in `extra`. */
const KNOWN_FIELDS = new Set([
  'question_id', 'model_a', 'model_b', 'winner', 'judge', 'conversation_a', 'conversation_b', 'turn', 'anony', 'language', 'tstamp',
]);

/** A battle-log record that passed validation. Optional FastChat fields stay undefined when absent. */
export interface ValidBattleRecord {
  modelA: string;
  modelB: string;
  winner: Winner;
  anony: boolean;
  /** FastChat's `tstamp`: Unix time in seconds (fractional). */
  tstampS: number;
  questionId?: string;
  judge?: string;
  turn?: number;
  language?: string;
  conversationA?: JsonValue[];
  conversationB?: JsonValue[];
  /** Top-level fields this module does not interpret (e.g. `conv_metadata`), kept verbatim for export. */
  extra: JsonObject;
}

/** A record as FastChat writes it. */
export interface BattleLogRecord {
  question_id?: string;
  model_a: string;
  model_b: string;
  winner: Winner;
  judge?: string;
  conversation_a?: JsonValue[];
  conversation_b?: JsonValue[];
  turn?: number;
  anony: boolean;
  language?: string;
  tstamp: number;
  [extra: string]: JsonValue | undefined;
}

/** On failure: every problem in one sentence, and the fields at fault (`record` when it is not an object). */
export type BattleParseResult = { ok: true; record: ValidBattleRecord } | { ok: false; problem: string; fields: string[] };

export function isWinner(value: unknown): value is Winner {
  return typeof value === 'string' && (WINNERS as readonly string[]).includes(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? typeof value;
  return `got ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

function modelName(raw: JsonObject, field: 'model_a' | 'model_b'): string | string[] {
  const value = raw[field];
  if (typeof value !== 'string' || value.trim() === '') return [`${field} must be a non-empty string (${describe(value)})`];
  return value;
}

function optionalString(raw: JsonObject, field: string, problems: string[]): string | undefined {
  const value = raw[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (field === 'question_id' && typeof value === 'number') return String(value);
  problems.push(`${field} must be a string (${describe(value)})`);
  return undefined;
}

function optionalConversation(raw: JsonObject, field: string, problems: string[]): JsonValue[] | undefined {
  const value = raw[field];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value;
  problems.push(`${field} must be an array of messages (${describe(value)})`);
  return undefined;
}

function optionalTurn(raw: JsonObject, problems: string[]): number | undefined {
  const value = raw.turn;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  problems.push(`turn must be a non-negative integer (${describe(value)})`);
  return undefined;
}

interface RequiredFields {
  modelA: string;
  modelB: string;
  winner: Winner;
  anony: boolean;
  tstampS: number;
}

function requiredFields(raw: JsonObject, problems: string[]): RequiredFields | undefined {
  const modelA = modelName(raw, 'model_a');
  const modelB = modelName(raw, 'model_b');
  if (Array.isArray(modelA)) problems.push(...modelA);
  if (Array.isArray(modelB)) problems.push(...modelB);
  const { winner, anony, tstamp } = raw;
  if (!isWinner(winner)) problems.push(`winner must be one of ${WINNERS.join(', ')} (${describe(winner)})`);
  if (typeof anony !== 'boolean') problems.push(`anony must be true or false (${describe(anony)})`);
  if (typeof tstamp !== 'number' || !Number.isFinite(tstamp)) problems.push(`tstamp must be a number of seconds (${describe(tstamp)})`);
  if (problems.length > 0 || Array.isArray(modelA) || Array.isArray(modelB)) return undefined;
  return { modelA, modelB, winner: winner as Winner, anony: anony as boolean, tstampS: tstamp as number };
}

/** Validates one parsed JSON value as a FastChat battle record; never throws. */
export function parseBattleRecord(value: unknown): BattleParseResult {
  if (!isJsonObject(value)) return { ok: false, problem: `record must be a JSON object (${describe(value)})`, fields: ['record'] };
  const problems: string[] = [];
  const required = requiredFields(value, problems);
  const record = {
    questionId: optionalString(value, 'question_id', problems),
    judge: optionalString(value, 'judge', problems),
    language: optionalString(value, 'language', problems),
    turn: optionalTurn(value, problems),
    conversationA: optionalConversation(value, 'conversation_a', problems),
    conversationB: optionalConversation(value, 'conversation_b', problems),
  };
  if (required === undefined || problems.length > 0) {
    return { ok: false, problem: problems.join('; '), fields: problems.map((p) => p.slice(0, p.indexOf(' '))) };
  }
  const extra: JsonObject = {};
  for (const [key, field] of Object.entries(value)) if (!KNOWN_FIELDS.has(key)) extra[key] = field;
  return { ok: true, record: { ...required, ...dropUndefined(record), extra } };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The FastChat record of a validated battle (field order as FastChat writes it; absent optional fields omitted). */
export function toBattleLogRecord(record: ValidBattleRecord): BattleLogRecord {
  const ordered: BattleLogRecord = {
    ...(record.questionId !== undefined ? { question_id: record.questionId } : {}),
    model_a: record.modelA,
    model_b: record.modelB,
    winner: record.winner,
    ...(record.judge !== undefined ? { judge: record.judge } : {}),
    ...(record.conversationA !== undefined ? { conversation_a: record.conversationA } : {}),
    ...(record.conversationB !== undefined ? { conversation_b: record.conversationB } : {}),
    ...(record.turn !== undefined ? { turn: record.turn } : {}),
    anony: record.anony,
    ...(record.language !== undefined ? { language: record.language } : {}),
    tstamp: record.tstampS,
  };
  for (const [key, value] of Object.entries(record.extra)) if (!(key in ordered)) ordered[key] = value;
  return ordered;
}
