/** The JSON the page receives from the gateway (see src/gateway/arena/wire.ts and the OpenAI chunk format). */

export type Role = 'system' | 'user' | 'assistant';

export interface Message {
  role: Role;
  content: string;
  finish_reason?: string;
}

export interface Conversation {
  id: string;
  model?: string;
  messages: Message[];
}

export interface Battle {
  id: string;
  anony: boolean;
  conversation_a: string;
  conversation_b: string;
  model_a?: string;
  model_b?: string;
  revealed: number | null;
}

/** GET /arena/battles/{id}: the battle with both transcripts as the server kept them. */
export interface BattleState extends Battle {
  messages_a: Message[];
  messages_b: Message[];
}

export type Winner = 'model_a' | 'model_b' | 'tie' | 'tie (bothbad)';

export interface Vote {
  id: number;
  winner: Winner;
  turn: number;
  model_a: string;
  model_b: string;
}

export interface LeaderboardRow {
  model: string;
  rating: number;
  ci_low: number;
  ci_high: number;
  elo_online: number;
  battles: number;
  rank: number;
  style_rating?: number;
  style_ci_low?: number;
  style_ci_high?: number;
  style_rank?: number;
}

export interface Leaderboard {
  models: LeaderboardRow[];
  battles: number;
  warnings: string[];
  last_tstamp: number | null;
  computed_at: number;
  stale: boolean;
}

export interface UiConfig {
  auth_required: boolean;
}

export interface ChatChunk {
  choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
  error?: { message: string; type?: string; code?: string | null };
}

export interface ErrorBody {
  error?: { message?: string; code?: string | null };
}
