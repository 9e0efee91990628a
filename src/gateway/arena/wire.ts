/** The arena's JSON on the HTTP wire (snake_case, like the battle log and leaderboard.json). */
import type { Leaderboard } from '../../arena/rating/leaderboard';
import type { ArenaBattle, ArenaConversation, ArenaMessage, BattleVote, Feedback } from '../../arena/store';

export type { LeaderboardRow as WireLeaderboardRow } from '../../arena/rating/leaderboard';

export interface WireMessage {
  role: string;
  content: string;
  /** Answers only: why generation ended (`stop`, `length`, `cancelled`) and its token counts. */
  finish_reason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface WireConversation {
  id: string;
  /** Left out for the two sides of a battle (it would reveal an anonymous battle). */
  model?: string;
  battle_id?: string;
  side?: 'a' | 'b';
  messages: WireMessage[];
  created: number;
  updated: number;
}

/** An anonymous battle hides `model_a` / `model_b` until the vote. */
export interface WireBattle {
  id: string;
  anony: boolean;
  conversation_a: string;
  conversation_b: string;
  model_a?: string;
  model_b?: string;
  created: number;
  /** Unix seconds of the vote that revealed the names; null while the battle is open. */
  revealed: number | null;
}

/** GET /arena/battles/{id}: the battle with both transcripts as the server kept them. */
export interface WireBattleState extends WireBattle {
  messages_a: WireMessage[];
  messages_b: WireMessage[];
}

/** GET /arena/leaderboard: the rating of every model, and when it was computed (stale while a newer one is computed). */
export interface WireLeaderboard extends Leaderboard {
  computed_at: number;
  stale: boolean;
}

export interface WireVote {
  id: number;
  battle_id: string;
  winner: string;
  turn: number;
  language: string;
  tstamp: number;
  /** Revealed with the vote. */
  model_a: string;
  model_b: string;
}

export interface WireFeedback {
  id: number;
  conversation_id: string;
  kind: string;
  turn: number;
  tstamp: number;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

function toWireMessage(m: ArenaMessage): WireMessage {
  if (m.role !== 'assistant' || m.finishReason === undefined) return { role: m.role, content: m.content };
  return { role: m.role, content: m.content, finish_reason: m.finishReason, usage: { prompt_tokens: m.promptTokens ?? 0, completion_tokens: m.completionTokens ?? 0 } };
}

export function toWireConversation(c: ArenaConversation): WireConversation {
  const owner = c.battleId === undefined ? { model: c.model } : { battle_id: c.battleId, side: c.side };
  return { id: c.id, ...owner, messages: c.messages.map(toWireMessage), created: seconds(c.createdAtMs), updated: seconds(c.updatedAtMs) };
}

export function toWireBattle(b: ArenaBattle): WireBattle {
  const names = b.anony && b.revealedAtMs === undefined ? {} : { model_a: b.modelA, model_b: b.modelB };
  return {
    id: b.id, anony: b.anony, conversation_a: b.conversationAId, conversation_b: b.conversationBId, ...names, created: seconds(b.createdAtMs),
    revealed: b.revealedAtMs === undefined ? null : b.revealedAtMs / 1000,
  };
}

export function toWireVote(v: BattleVote, battle: ArenaBattle): WireVote {
  return { id: v.id, battle_id: v.battleId, winner: v.winner, turn: v.turn, language: v.language, tstamp: v.tstampS, model_a: battle.modelA, model_b: battle.modelB };
}

export function toWireFeedback(f: Feedback): WireFeedback {
  return { id: f.id, conversation_id: f.conversationId, kind: f.kind, turn: f.turn, tstamp: f.tstampS };
}
