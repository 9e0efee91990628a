/**
 * The JSON the page exchanges with the gateway. The arena's and OpenAI's shapes are the server's own
 * (src/gateway/arena/wire.ts, src/gateway/openai/wire.ts, imported as types only: nothing of the server reaches the
 * bundle); the page adds the request messages it sends to /v1/chat/completions when tools are on.
 */
import type { WireBattle, WireBattleState, WireConversation, WireLeaderboard, WireLeaderboardRow, WireMessage, WireVote } from '../../arena/wire';
import type { WireChatChunkChoice, WireToolCall, WireToolCallDelta } from '../../openai/wire';

export type Role = 'system' | 'user' | 'assistant' | 'tool';

/** A call the model made: id, function name and the arguments as JSON text. */
export type ToolCall = WireToolCall;

/** A streamed piece of a call (the first has index, id and name; later ones add argument text). */
export type ToolCallDelta = WireToolCallDelta;

/**
 * A message as the page builds and shows it; the server's WireMessage carries role, content and finish_reason. Tool
 * conversations (kept by the page) add an assistant's `tool_calls` and a tool result's `tool_call_id` and function.
 */
export interface Message extends Omit<WireMessage, 'role' | 'usage'> {
  role: Role;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  /** A tool result: the function whose call it answers (shown, not sent). */
  name?: string;
}

/** A message as /v1/chat/completions takes it. */
export type ApiMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; content: string; tool_call_id: string };

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
  choices?: Array<{ delta?: WireChatChunkChoice['delta']; finish_reason?: string | null }>;
  error?: { message: string; type?: string; code?: string | null };
}

export interface ErrorBody {
  error?: { message?: string; code?: string | null };
}
