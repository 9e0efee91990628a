/**
 * The arena's storage contract: conversations, battles (two anonymous or named models side by side), battle votes
 * and single-model feedback. Every method is async so that a networked backend (PostgreSQL, needed for several
 * gateway replicas) implements the same interface: `SqliteArenaStore` is the embedded default, `PostgresArenaStore`
 * serves several gateways. The transcript is the server's: user turns and generated answers are appended, never
 * written by a client.
 *
 * Durability: a write method resolves only after its transaction has committed to stable storage, so a caller may
 * confirm a vote to the user as soon as `recordBattleVote` resolves.
 */
import type { BattleLogRecord, ValidBattleRecord, Winner } from './battle-log';
import type { JsonValue } from './json-value';

export type MessageRole = 'system' | 'user' | 'assistant';

export interface ArenaMessage {
  role: MessageRole;
  content: string;
  /** Assistant turns recorded by the server: why generation ended (`stop`, `length`, `cancelled` when the client left). */
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** When the server recorded the message (Unix seconds). */
  tstampS?: number;
}

/** An answer as the server generated it, appended when its stream finished. */
export interface RecordedAnswer {
  content: string;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
}

export interface ArenaConversation {
  id: string;
  /** The model that answers in this conversation. */
  model: string;
  messages: ArenaMessage[];
  /** Set when the conversation is one side of a battle. */
  battleId?: string;
  side?: 'a' | 'b';
  /** Pseudonymous judge id (see `pseudonymousJudgeId`), never a raw IP address or user id. */
  judgeId?: string;
  /** Digest of the browser session that owns the conversation (see the gateway's session cookie). */
  sessionId?: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface ArenaBattle {
  id: string;
  modelA: string;
  modelB: string;
  /** True when the judge does not see the model names before voting. */
  anony: boolean;
  conversationAId: string;
  conversationBId: string;
  judgeId?: string;
  sessionId?: string;
  createdAtMs: number;
  /** Set by the battle's vote: the names are revealed and the battle takes no more turns or votes. */
  revealedAtMs?: number;
}

export interface BattleVote {
  id: number;
  battleId: string;
  winner: Winner;
  /** Number of user turns in conversation A when the vote was cast (FastChat's `turn`). */
  turn: number;
  judgeId: string;
  language: string;
  /** FastChat's `tstamp`: Unix time in seconds (fractional). */
  tstampS: number;
}

export type FeedbackKind = 'upvote' | 'downvote' | 'flag';

export interface Feedback {
  id: number;
  conversationId: string;
  model: string;
  kind: FeedbackKind;
  turn: number;
  judgeId: string;
  tstampS: number;
}

export interface NewConversation {
  model: string;
  judgeId?: string;
  sessionId?: string;
}

export interface NewBattle {
  modelA: string;
  modelB: string;
  anony: boolean;
  judgeId?: string;
  sessionId?: string;
}

/** A new user message, for one conversation or for both sides of a battle at once. */
export type NewUserTurn = { conversationId: string; content: string } | { battleId: string; content: string };

export interface NewAnswer {
  conversationId: string;
  answer: RecordedAnswer;
  /** Replace the last answer (regenerate) instead of answering a new user message. */
  replaceLast?: boolean;
}

export interface NewBattleVote {
  battleId: string;
  winner: Winner;
  judgeId: string;
  /** Language of the first user message, e.g. `English`; `unknown` when not given. */
  language?: string;
  /** Defaults to now. */
  tstampS?: number;
}

export interface NewFeedback {
  conversationId: string;
  kind: FeedbackKind;
  judgeId: string;
  tstampS?: number;
}

export interface ExportOptions {
  /** Only anonymous battles (FastChat's `conv_release` mode). Default false: every vote. */
  anonyOnly?: boolean;
  /** Only votes at or after this Unix time in seconds. */
  sinceS?: number;
  /** Leave out `conversation_a` / `conversation_b` (FastChat's `simple` mode). Default false. */
  withoutConversations?: boolean;
}

export interface ImportProblem {
  /** 0-based position of the record in the input. */
  index: number;
  problem: string;
}

export interface ImportReport {
  read: number;
  imported: number;
  /** Records already in the store (same content imported before). */
  duplicates: number;
  rejected: number;
  /** The first rejected records with the reason (at most 100). */
  problems: ImportProblem[];
}

export interface ArenaCounts {
  conversations: number;
  battles: number;
  battleVotes: number;
  feedback: number;
}

export interface ArenaStore {
  /** Starts a single-model conversation. */
  createConversation(input: NewConversation): Promise<ArenaConversation>;
  /**
   * Appends the user's message to a conversation, or to both sides of a battle in one transaction. Throws
   * `not_found`, or `conflict` when the last user message has no answer yet or the battle was already voted on.
   * Resolves with the conversations as stored.
   */
  addUserTurn(input: NewUserTurn): Promise<ArenaConversation[]>;
  /**
   * Appends the answer the server generated to the last user message (or replaces the last answer with
   * `replaceLast`). Throws `not_found`, or `conflict` when there is nothing to answer or the battle was voted on.
   */
  appendAnswer(input: NewAnswer): Promise<ArenaConversation>;
  getConversation(conversationId: string): Promise<ArenaConversation | undefined>;
  /** Starts a battle and its two (empty) conversations; throws `invalid_request` when the models are equal. */
  createBattle(input: NewBattle): Promise<ArenaBattle>;
  getBattle(battleId: string): Promise<ArenaBattle | undefined>;
  /**
   * Records the judge's verdict on a battle at its current turn, with a snapshot of both conversations, and reveals
   * the battle in the same transaction: one vote per battle. Throws `not_found` (unknown battle), `invalid_request`
   * (a side has not answered the last message) or `conflict` (the battle already has its vote). Resolves once the
   * vote is durable.
   */
  recordBattleVote(input: NewBattleVote): Promise<BattleVote>;
  /** Records an upvote / downvote / flag on a single-model conversation at its current turn. */
  recordFeedback(input: NewFeedback): Promise<Feedback>;
  /** Every battle vote as a FastChat battle-log record, oldest first, read page by page. */
  exportBattleLog(options?: ExportOptions): AsyncIterable<BattleLogRecord>;
  /** Imports FastChat battle-log records (raw JSON values); invalid ones are counted and explained, not fatal. */
  importBattleLog(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<ImportReport>;
  counts(): Promise<ArenaCounts>;
  /** A random secret shared by every process on this store, created on first use (e.g. judge pseudonyms). */
  sharedSecret(name: string): Promise<string>;
  /** Waits for pending writes, then releases the database. Later calls throw `unavailable`. */
  close(): Promise<void>;
}

export type { BattleLogRecord, ValidBattleRecord, Winner, JsonValue };
