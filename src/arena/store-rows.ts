/**
 * Row shapes of the arena schema — the same columns in SQLite and PostgreSQL — and their conversion to the store's
 * types (pure).
 */
import { createHash } from 'node:crypto';
import { toBattleLogRecord, type BattleLogRecord, type ValidBattleRecord, type Winner } from './battle-log';
import { isJsonObject, type JsonObject, type JsonValue } from './json-value';
import type { ArenaBattle, ArenaConversation, ArenaMessage, BattleVote, Feedback, FeedbackKind } from './store';

export interface ConversationRow {
  id: string;
  model: string;
  battle_id: string | null;
  side: 'a' | 'b' | null;
  judge_id: string | null;
  session_id: string | null;
  messages_json: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface BattleRow {
  id: string;
  question_id: string | null;
  model_a: string;
  model_b: string;
  anony: number;
  conversation_a_id: string | null;
  conversation_b_id: string | null;
  judge_id: string | null;
  session_id: string | null;
  created_at_ms: number;
  revealed_at_ms: number | null;
}

export interface BattleVoteRow {
  id: number;
  battle_id: string;
  winner: Winner;
  turn: number | null;
  judge_id: string | null;
  language: string | null;
  tstamp_s: number;
  conversation_a_json: string | null;
  conversation_b_json: string | null;
  extra_json: string | null;
  record_key: string | null;
}

/** A vote joined with its battle, as the export reads it. */
export interface ExportRow extends BattleVoteRow {
  question_id: string | null;
  model_a: string;
  model_b: string;
  anony: number;
}

export interface FeedbackRow {
  id: number;
  conversation_id: string;
  model: string;
  kind: FeedbackKind;
  turn: number;
  judge_id: string;
  tstamp_s: number;
}

export function toConversation(row: ConversationRow): ArenaConversation {
  return {
    id: row.id,
    model: row.model,
    messages: JSON.parse(row.messages_json) as ArenaMessage[],
    ...(row.battle_id !== null ? { battleId: row.battle_id } : {}),
    ...(row.side !== null ? { side: row.side } : {}),
    ...(row.judge_id !== null ? { judgeId: row.judge_id } : {}),
    ...(row.session_id !== null ? { sessionId: row.session_id } : {}),
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export function toBattle(row: BattleRow): ArenaBattle {
  return {
    id: row.id,
    modelA: row.model_a,
    modelB: row.model_b,
    anony: row.anony === 1,
    conversationAId: row.conversation_a_id ?? '',
    conversationBId: row.conversation_b_id ?? '',
    ...(row.judge_id !== null ? { judgeId: row.judge_id } : {}),
    ...(row.session_id !== null ? { sessionId: row.session_id } : {}),
    createdAtMs: row.created_at_ms,
    ...(row.revealed_at_ms !== null ? { revealedAtMs: row.revealed_at_ms } : {}),
  };
}

export function toBattleVote(row: BattleVoteRow): BattleVote {
  return {
    id: row.id,
    battleId: row.battle_id,
    winner: row.winner,
    turn: row.turn ?? 0,
    judgeId: row.judge_id ?? '',
    language: row.language ?? 'unknown',
    tstampS: row.tstamp_s,
  };
}

export function toFeedback(row: FeedbackRow): Feedback {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    model: row.model,
    kind: row.kind,
    turn: row.turn,
    judgeId: row.judge_id,
    tstampS: row.tstamp_s,
  };
}

function parseArray(json: string | null): JsonValue[] | undefined {
  return json === null ? undefined : (JSON.parse(json) as JsonValue[]);
}

function parseObject(json: string | null): JsonObject {
  if (json === null) return {};
  const value = JSON.parse(json) as unknown;
  return isJsonObject(value) ? value : {};
}

/** The validated battle record a stored vote stands for. */
export function toValidRecord(row: ExportRow, withConversations: boolean): ValidBattleRecord {
  const record: ValidBattleRecord = {
    modelA: row.model_a,
    modelB: row.model_b,
    winner: row.winner,
    anony: row.anony === 1,
    tstampS: row.tstamp_s,
    extra: parseObject(row.extra_json),
  };
  if (row.question_id !== null) record.questionId = row.question_id;
  if (row.judge_id !== null) record.judge = row.judge_id;
  if (row.turn !== null) record.turn = row.turn;
  if (row.language !== null) record.language = row.language;
  const conversationA = withConversations ? parseArray(row.conversation_a_json) : undefined;
  const conversationB = withConversations ? parseArray(row.conversation_b_json) : undefined;
  if (conversationA !== undefined) record.conversationA = conversationA;
  if (conversationB !== undefined) record.conversationB = conversationB;
  return record;
}

/** Content hash of a record: the same battle-log record imported twice is stored once. */
export function recordKey(record: BattleLogRecord): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('hex');
}

export function exportRecord(row: ExportRow, withConversations: boolean): BattleLogRecord {
  return toBattleLogRecord(toValidRecord(row, withConversations));
}

/** The vote row of a validated record in battle `battleId`; its content hash dedups imports. */
export function toVoteRow(battleId: string, record: ValidBattleRecord): Omit<BattleVoteRow, 'id'> {
  return {
    battle_id: battleId,
    winner: record.winner,
    turn: record.turn ?? null,
    judge_id: record.judge ?? null,
    language: record.language ?? null,
    tstamp_s: record.tstampS,
    conversation_a_json: record.conversationA === undefined ? null : JSON.stringify(record.conversationA),
    conversation_b_json: record.conversationB === undefined ? null : JSON.stringify(record.conversationB),
    extra_json: Object.keys(record.extra).length === 0 ? null : JSON.stringify(record.extra),
    record_key: recordKey(toBattleLogRecord(record)),
  };
}
