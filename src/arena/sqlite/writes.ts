/**
 * The write operations of the SQLite arena store. Each runs synchronously inside the group-commit transaction
 * (its own savepoint), reads what it needs, checks it and writes; inputs are already validated.
 */
import { randomUUID } from 'node:crypto';
import { FleetError } from '../../common/errors';
import { toBattleLogRecord, type ValidBattleRecord, type Winner } from '../battle-log';
import type { ArenaBattle, ArenaConversation, ArenaMessage, BattleVote, Feedback, FeedbackKind } from '../store';
import {
  recordKey, toBattle, toBattleVote, toConversation, toFastChatConversation, toFeedback,
  type BattleRow, type BattleVoteRow, type ConversationRow, type FeedbackRow,
} from './rows';
import type { Statements } from './statements';

export interface ConversationInput {
  model: string;
  messages: ArenaMessage[];
  judgeId?: string;
  battleId?: string;
  side?: 'a' | 'b';
}

export function insertConversation(s: Statements, input: ConversationInput, nowMs: number): ArenaConversation {
  const row: ConversationRow = {
    id: randomUUID(),
    model: input.model,
    battle_id: input.battleId ?? null,
    side: input.side ?? null,
    judge_id: input.judgeId ?? null,
    messages_json: JSON.stringify(input.messages),
    created_at_ms: nowMs,
    updated_at_ms: nowMs,
  };
  s.insertConversation.run(row);
  return toConversation(row);
}

export function updateMessages(s: Statements, conversationId: string, messages: ArenaMessage[], nowMs: number): ArenaConversation {
  const result = s.updateMessages.run(JSON.stringify(messages), nowMs, conversationId);
  if (result.changes === 0) throw new FleetError('not_found', `conversation ${conversationId} does not exist`, { param: 'conversationId' });
  return toConversation(s.getConversation.get(conversationId) as ConversationRow);
}

export interface BattleInput {
  modelA: string;
  modelB: string;
  anony: boolean;
  judgeId?: string;
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
    created_at_ms: nowMs,
  };
  s.insertBattle.run(row);
  for (const [side, conversationId, model] of [['a', conversationAId, input.modelA], ['b', conversationBId, input.modelB]] as const) {
    s.insertConversation.run({
      id: conversationId, model, battle_id: id, side, judge_id: input.judgeId ?? null, messages_json: '[]', created_at_ms: nowMs, updated_at_ms: nowMs,
    } satisfies ConversationRow);
  }
  return toBattle(row);
}

function userTurns(messages: ArenaMessage[]): number {
  return messages.filter((m) => m.role === 'user').length;
}

function answered(messages: ArenaMessage[]): boolean {
  return messages.some((m) => m.role === 'assistant');
}

export interface VoteInput {
  battleId: string;
  winner: Winner;
  judgeId: string;
  language: string;
  tstampS: number;
}

function conversationOf(s: Statements, id: string | null): ArenaConversation | undefined {
  const row = id === null ? undefined : (s.getConversation.get(id) as ConversationRow | undefined);
  return row === undefined ? undefined : toConversation(row);
}

export function insertBattleVote(s: Statements, input: VoteInput): BattleVote {
  const battle = s.getBattle.get(input.battleId) as BattleRow | undefined;
  if (battle === undefined) throw new FleetError('not_found', `battle ${input.battleId} does not exist`, { param: 'battleId' });
  const a = conversationOf(s, battle.conversation_a_id);
  const b = conversationOf(s, battle.conversation_b_id);
  if (a === undefined || b === undefined) throw new FleetError('invalid_request', `battle ${input.battleId} was imported from a log and takes no new votes`);
  if (!answered(a.messages) || !answered(b.messages)) {
    throw new FleetError('invalid_request', 'both models must have answered before a vote', { param: 'battleId' });
  }
  const turn = userTurns(a.messages);
  if (s.voteAtTurn.get(battle.id, turn) !== undefined) {
    throw new FleetError('conflict', `battle ${battle.id} already has a vote for turn ${turn}`, { param: 'battleId' });
  }
  const record: ValidBattleRecord = {
    questionId: battle.question_id ?? battle.id,
    modelA: battle.model_a,
    modelB: battle.model_b,
    winner: input.winner,
    judge: input.judgeId,
    conversationA: toFastChatConversation(a.messages),
    conversationB: toFastChatConversation(b.messages),
    turn,
    anony: battle.anony === 1,
    language: input.language,
    tstampS: input.tstampS,
    extra: {},
  };
  return insertVoteRow(s, battle.id, record);
}

/** Inserts the vote of a validated record into battle `battleId`; the record's content hash dedups imports. */
function insertVoteRow(s: Statements, battleId: string, record: ValidBattleRecord): BattleVote {
  const row: Omit<BattleVoteRow, 'id'> = {
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
      conversation_a_id: null, conversation_b_id: null, judge_id: null, created_at_ms: Math.round(record.tstampS * 1000),
    } satisfies BattleRow);
  }
  insertVoteRow(s, battleId, record);
  return 'imported';
}
