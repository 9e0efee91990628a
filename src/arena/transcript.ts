/**
 * The rules of a server-kept transcript, shared by every store backend (pure): a user message may follow only an
 * answered turn, an answer only a user message (or replace the last answer when regenerating), a battle is voted on
 * once — when both sides have answered the same last message — and a voted battle takes no more turns.
 */
import { FleetError } from '../common/errors';
import type { ValidBattleRecord, Winner } from './battle-log';
import type { JsonValue } from './json-value';
import type { ArenaBattle, ArenaConversation, ArenaMessage, RecordedAnswer } from './store';

/** Longest user message the arena records (characters). */
export const MAX_USER_MESSAGE_CHARS = 64 * 1024;
/** Most user turns in one conversation. */
export const MAX_USER_TURNS = 64;

export function userTurns(messages: readonly ArenaMessage[]): number {
  return messages.filter((m) => m.role === 'user').length;
}

export function answered(messages: readonly ArenaMessage[]): boolean {
  return messages.length > 0 && messages[messages.length - 1].role === 'assistant';
}

export function validUserContent(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_USER_MESSAGE_CHARS) {
    throw new FleetError('invalid_request', `message must be a non-empty string of at most ${MAX_USER_MESSAGE_CHARS} characters`, { param: 'message' });
  }
  return value;
}

export function validAnswer(value: RecordedAnswer): RecordedAnswer {
  const count = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (typeof value.content !== 'string' || typeof value.finishReason !== 'string' || !count(value.promptTokens) || !count(value.completionTokens)) {
    throw new FleetError('invalid_request', 'an answer needs content, finishReason and token counts', { param: 'answer' });
  }
  return { content: value.content, finishReason: value.finishReason, promptTokens: value.promptTokens, completionTokens: value.completionTokens };
}

export function assertNotRevealed(battle: Pick<ArenaBattle, 'id' | 'revealedAtMs'> | undefined): void {
  if (battle?.revealedAtMs !== undefined) {
    throw new FleetError('conflict', `battle ${battle.id} was voted on and its names revealed: start a new battle`, { param: 'battleId', code: 'battle_revealed' });
  }
}

/** The messages with the user's new message appended. */
export function withUserTurn(conversation: ArenaConversation, content: string, tstampS: number): ArenaMessage[] {
  const { messages } = conversation;
  if (messages.length > 0 && !answered(messages)) {
    throw new FleetError('conflict', 'the last message has no answer yet', { param: 'message', code: 'turn_unanswered' });
  }
  if (userTurns(messages) >= MAX_USER_TURNS) {
    throw new FleetError('invalid_request', `a conversation holds at most ${MAX_USER_TURNS} user turns: start a new one`, { param: 'message', code: 'too_many_turns' });
  }
  return [...messages, { role: 'user', content, tstampS }];
}

/** The messages with the generated answer appended (or replacing the last answer). */
export function withAnswer(conversation: ArenaConversation, answer: RecordedAnswer, replaceLast: boolean, tstampS: number): ArenaMessage[] {
  const messages = conversation.messages.slice();
  if (replaceLast && answered(messages)) messages.pop();
  if (messages.length === 0 || messages[messages.length - 1].role !== 'user') {
    throw new FleetError('conflict', 'there is no user message to answer', { param: 'conversationId', code: 'nothing_to_answer' });
  }
  messages.push({ role: 'assistant', content: answer.content, finishReason: answer.finishReason, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens, tstampS });
  return messages;
}

/** The turn a vote on this battle counts for; throws unless both sides answered the same last message. */
export function votableTurn(battle: ArenaBattle, a: ArenaConversation, b: ArenaConversation): number {
  assertNotRevealed(battle);
  const turn = userTurns(a.messages);
  if (!answered(a.messages) || !answered(b.messages) || turn !== userTurns(b.messages)) {
    throw new FleetError('invalid_request', 'both models must have answered the last message before a vote', { param: 'battleId', code: 'battle_unanswered' });
  }
  return turn;
}

/** FastChat's conversation format (OpenAI messages, system prompt left out) of a conversation snapshot. */
export function toFastChatConversation(messages: readonly ArenaMessage[]): JsonValue[] {
  return messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content }));
}

export interface VoteFields {
  winner: Winner;
  judgeId: string;
  language: string;
  tstampS: number;
}

/** The battle-log record of a vote on a live battle. */
export function liveVoteRecord(battle: ArenaBattle & { questionId?: string }, a: ArenaConversation, b: ArenaConversation, vote: VoteFields): ValidBattleRecord {
  const turn = votableTurn(battle, a, b);
  return {
    questionId: battle.questionId ?? battle.id,
    modelA: battle.modelA,
    modelB: battle.modelB,
    winner: vote.winner,
    judge: vote.judgeId,
    conversationA: toFastChatConversation(a.messages),
    conversationB: toFastChatConversation(b.messages),
    turn,
    anony: battle.anony,
    language: vote.language,
    tstampS: vote.tstampS,
    extra: {},
  };
}
