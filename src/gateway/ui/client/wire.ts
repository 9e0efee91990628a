/**
 * The JSON the page receives from the gateway. The arena's shapes are the server's own (src/gateway/arena/wire.ts,
 * imported as types only: nothing of the server reaches the bundle); the OpenAI chunk and error shapes the page reads.
 */
import type { WireBattle, WireBattleState, WireConversation, WireLeaderboard, WireLeaderboardRow, WireMessage, WireVote } from '../../arena/wire';

export type Role = 'system' | 'user' | 'assistant';

/** A message as the page builds and shows it; the server's WireMessage carries the same fields (role as a string). */
export interface Message extends Omit<WireMessage, 'role' | 'usage'> {
  role: Role;
}

export interface Conversation extends Omit<WireConversation, 'messages' | 'created' | 'updated'> {
  messages: Message[];
}

export type Battle = WireBattle;

export type BattleState = WireBattleState;

export type Winner = 'model_a' | 'model_b' | 'tie' | 'tie (bothbad)';

export interface Vote extends WireVote {
  winner: Winner;
}

export type LeaderboardRow = WireLeaderboardRow;

export type Leaderboard = WireLeaderboard;

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
