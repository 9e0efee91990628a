/**
 * The write operations of the SQLite arena store. Each runs synchronously inside the group-commit transaction
 * (its own savepoint), reads what it needs, checks it against the transcript rules and writes; inputs are already
 * validated.
 */
import { randomUUID } from 'node:crypto';
import { FleetError } from '../../common/errors';
import { toBattleLogRecord, type ValidBattleRecord } from '../battle-log';
import type { ArenaBattle, ArenaConversation, ArenaMessage, BattleVote, Feedback, FeedbackKind, NewAnswer, NewUserTurn } from '../store';
import {
  recordKey, toBattle, toBattleVote, toConversation, toFeedback, toVoteRow, type BattleRow, type ConversationRow, type FeedbackRow,
} from '../store-rows';
import {
  answered, assertNotRevealed, liveVoteRecord, toFastChatConversation, userTurns, withAnswer, withUserTurn, type VoteFields,
} from '../transcript';
import type { Statements } from './statements';

export interface ConversationInput {
  model: string;
  judgeId?: string;
  sessionId?: string;
}

export function insertConversation(s: Statements, input: ConversationInput, nowMs: number): ArenaConversation {
  const row: ConversationRow = {
    id: randomUUID(),
    model: input.model,
    battle_id: null,
    side: null,
    judge_id: input.judgeId ?? null,
    session_id: input.sessionId ?? null,
    messages_json: '[]',
    created_at_ms: nowMs,
    updated_at_ms: nowMs,
  };
  s.insertConversation.run(row);
  return toConversation(row);
}

function conversationOf(s: Statements, id: string | null): ArenaConversation | undefined {
  const row = id === null ? undefined : (s.getConversation.get(id) as ConversationRow | undefined);
  return row === undefined ? undefined : toConversation(row);
}

function battleOf(s: Statements, id: string): BattleRow | undefined {
  return s.getBattle.get(id) as BattleRow | undefined;
}

function requireConversation(s: Statements, id: string): ArenaConversation {
  const conversation = conversationOf(s, id);
  if (conversation === undefined) throw new FleetError('not_found', `conversation ${id} does not exist`, { param: 'conversationId' });
  return conversation;
}

function save(s: Statements, conversation: ArenaConversation, messages: ArenaMessage[], nowMs: number): ArenaConversation {
  s.updateMessages.run(JSON.stringify(messages), nowMs, conversation.id);
  return { ...conversation, messages, updatedAtMs: nowMs };
}

/** The conversations a user turn goes to: one, or both sides of a live, unrevealed battle. */
function turnTargets(s: Statements, input: NewUserTurn): ArenaConversation[] {
  if ('conversationId' in input) {
    const conversation = requireConversation(s, input.conversationId);
    if (conversation.battleId !== undefined) assertNotRevealed(toBattle(battleOf(s, conversation.battleId)!));
    return [conversation];
  }
  const row = battleOf(s, input.battleId);
  if (row === undefined) throw new FleetError('not_found', `battle ${input.battleId} does not exist`, { param: 'battleId' });
  const a = conversationOf(s, row.conversation_a_id);
  const b = conversationOf(s, row.conversation_b_id);
  if (a === undefined || b === undefined) throw new FleetError('invalid_request', `battle ${row.id} was imported from a log and takes no new turns`);
  assertNotRevealed(toBattle(row));
  return [a, b];
}

export function addUserTurn(s: Statements, input: NewUserTurn, nowMs: number): ArenaConversation[] {
  const targets = turnTargets(s, input);
  const updated = targets.map((c) => ({ c, messages: withUserTurn(c, input.content, nowMs / 1000) }));
  return updated.map(({ c, messages }) => save(s, c, messages, nowMs));
}

export function appendAnswer(s: Statements, input: NewAnswer, nowMs: number): ArenaConversation {
  const conversation = requireConversation(s, input.conversationId);
  if (conversation.battleId !== undefined) assertNotRevealed(toBattle(battleOf(s, conversation.battleId)!));
  return save(s, conversation, withAnswer(conversation, input.answer, input.replaceLast === true, nowMs / 1000), nowMs);
}

export interface BattleInput {
  modelA: string;
  modelB: string;
  anony: boolean;
  judgeId?: string;
  sessionId?: string;
}

export function insertBattle(s: Statements, input: BattleInput, nowMs: number): ArenaBattle {
  const id = randomUUID();
  const conversationAId = randomUUID();
  const conversationBId = randomUUID();
  const row: BattleRow = {
    id,
    question_id: conversationAId,
    model_a: input.modelA,
    model_b: input.modelB,
    anony: input.anony ? 1 : 0,
    conversation_a_id: conversationAId,
    conversation_b_id: conversationBId,
    judge_id: input.judgeId ?? null,
    session_id: input.sessionId ?? null,
    created_at_ms: nowMs,
    revealed_at_ms: null,
  };
  s.insertBattle.run(row);
  for (const [side, conversationId, model] of [['a', conversationAId, input.modelA], ['b', conversationBId, input.modelB]] as const) {
    s.insertConversation.run({
      id: conversationId, model, battle_id: id, side, judge_id: row.judge_id, session_id: row.session_id, messages_json: '[]', created_at_ms: nowMs, updated_at_ms: nowMs,
    } satisfies ConversationRow);
  }
  return toBattle(row);
}

export function insertBattleVote(s: Statements, input: VoteFields & { battleId: string }): BattleVote {
  const row = battleOf(s, input.battleId);
  if (row === undefined) throw new FleetError('not_found', `battle ${input.battleId} does not exist`, { param: 'battleId' });
  const a = conversationOf(s, row.conversation_a_id);
  const b = conversationOf(s, row.conversation_b_id);
  if (a === undefined || b === undefined) throw new FleetError('invalid_request', `battle ${input.battleId} was imported from a log and takes no new votes`);
  const record = liveVoteRecord({ ...toBattle(row), questionId: row.question_id ?? undefined }, a, b, input);
  if (s.revealBattle.run(Math.round(input.tstampS * 1000), row.id).changes !== 1) assertNotRevealed({ id: row.id, revealedAtMs: 0 });
  return insertVoteRow(s, row.id, record);
}

function insertVoteRow(s: Statements, battleId: string, record: ValidBattleRecord): BattleVote {
  const row = toVoteRow(battleId, record);
  const id = Number(s.insertVote.run(row).lastInsertRowid);
  return toBattleVote({ id, ...row });
}

export interface FeedbackInput {
  conversationId: string;
  kind: FeedbackKind;
  judgeId: string;
  tstampS: number;
}

export function insertFeedback(s: Statements, input: FeedbackInput): Feedback {
  const conversation = conversationOf(s, input.conversationId);
  if (conversation === undefined) throw new FleetError('not_found', `conversation ${input.conversationId} does not exist`, { param: 'conversationId' });
  if (!answered(conversation.messages)) throw new FleetError('invalid_request', 'the model has not answered yet', { param: 'conversationId' });
  const row: Omit<FeedbackRow, 'id'> & { conversation_json: string } = {
    conversation_id: conversation.id,
    model: conversation.model,
    kind: input.kind,
    turn: userTurns(conversation.messages),
    judge_id: input.judgeId,
    tstamp_s: input.tstampS,
    conversation_json: JSON.stringify(toFastChatConversation(conversation.messages)),
  };
  const id = Number(s.insertFeedback.run(row).lastInsertRowid);
  return toFeedback({ id, ...row });
}

export type ImportOutcome = 'imported' | 'duplicate';

/** Stores one imported record: skipped when the same record is already stored, else attached to its battle. */
export function importRecord(s: Statements, record: ValidBattleRecord): ImportOutcome {
  if (s.voteByKey.get(recordKey(toBattleLogRecord(record))) !== undefined) return 'duplicate';
  const anony = record.anony ? 1 : 0;
  const existing = record.questionId === undefined
    ? undefined
    : (s.findImportedBattle.get(record.questionId, record.modelA, record.modelB, anony) as { id: string } | undefined);
  let battleId = existing?.id;
  if (battleId === undefined) {
    battleId = randomUUID();
    s.insertBattle.run({
      id: battleId, question_id: record.questionId ?? null, model_a: record.modelA, model_b: record.modelB, anony,
      conversation_a_id: null, conversation_b_id: null, judge_id: null, session_id: null, created_at_ms: Math.round(record.tstampS * 1000), revealed_at_ms: null,
    } satisfies BattleRow);
  }
  insertVoteRow(s, battleId, record);
  return 'imported';
}
