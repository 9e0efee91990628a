/**
 * The row-level statements of the PostgreSQL arena store (pg-store.ts), each run on the client of an open
 * transaction: row parameters in column order, locking a battle or a conversation (`SELECT … FOR UPDATE`), saving a
 * transcript, inserting a vote, importing one battle-log record.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { FleetError } from '../../common/errors';
import { toBattleLogRecord, type ValidBattleRecord } from '../battle-log';
import type { ArenaConversation, ArenaMessage } from '../store';
import { recordKey, toConversation, toVoteRow, type BattleRow, type ConversationRow } from '../store-rows';
import { SQL } from './pg-sql';

type Client = pg.PoolClient;

export function conversationParams(r: ConversationRow): unknown[] {
  return [r.id, r.model, r.battle_id, r.side, r.judge_id, r.session_id, r.messages_json, r.created_at_ms, r.updated_at_ms];
}

export function battleParams(r: BattleRow): unknown[] {
  return [r.id, r.question_id, r.model_a, r.model_b, r.anony, r.conversation_a_id, r.conversation_b_id, r.judge_id, r.session_id, r.created_at_ms, r.revealed_at_ms];
}

export async function lockBattle(c: Client, id: string): Promise<BattleRow> {
  const row = (await c.query<BattleRow>(SQL.lockBattle, [id])).rows[0];
  if (row === undefined) throw new FleetError('not_found', `battle ${id} does not exist`, { param: 'battleId' });
  return row;
}

export async function lockConversation(c: Client, id: string | null): Promise<ArenaConversation | undefined> {
  if (id === null) return undefined;
  const row = (await c.query<ConversationRow>(SQL.lockConversation, [id])).rows[0];
  return row === undefined ? undefined : toConversation(row);
}

export async function save(c: Client, conversation: ArenaConversation, messages: ArenaMessage[], nowMs: number): Promise<ArenaConversation> {
  await c.query(SQL.updateMessages, [JSON.stringify(messages), nowMs, conversation.id]);
  return { ...conversation, messages, updatedAtMs: nowMs };
}

/** Inserts a vote row; undefined when a vote with the same content is already stored. */
export async function insertVote(c: Client, battleId: string, record: ValidBattleRecord): Promise<number | undefined> {
  const r = toVoteRow(battleId, record);
  const { rows } = await c.query<{ id: number }>(SQL.insertVote, [
    r.battle_id, r.winner, r.turn, r.judge_id, r.language, r.tstamp_s, r.conversation_a_json, r.conversation_b_json, r.extra_json, r.record_key,
  ]);
  return rows[0]?.id;
}

/** Stores one imported record; false when the same record is already stored. */
export async function importRecord(c: Client, record: ValidBattleRecord): Promise<boolean> {
  if ((await c.query(SQL.voteByKey, [recordKey(toBattleLogRecord(record))])).rows.length > 0) return false;
  const anony = record.anony ? 1 : 0;
  const existing = record.questionId === undefined
    ? undefined
    : (await c.query<{ id: string }>(SQL.findImportedBattle, [record.questionId, record.modelA, record.modelB, anony])).rows[0];
  let battleId = existing?.id;
  if (battleId === undefined) {
    battleId = randomUUID();
    await c.query(SQL.insertBattle, battleParams({
      id: battleId, question_id: record.questionId ?? null, model_a: record.modelA, model_b: record.modelB, anony,
      conversation_a_id: null, conversation_b_id: null, judge_id: null, session_id: null, created_at_ms: Math.round(record.tstampS * 1000), revealed_at_ms: null,
    }));
  }
  return (await insertVote(c, battleId, record)) !== undefined;
}
