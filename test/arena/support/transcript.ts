/** Test helpers that drive a store through the server-kept transcript: a user turn, then each side's answer. */
import { FleetError } from '../../../src/common/errors';
import type { ArenaBattle, ArenaStore, RecordedAnswer } from '../../../src/arena/store';

export function answer(content: string, completionTokens = 3): RecordedAnswer {
  return { content, finishReason: 'stop', promptTokens: 7, completionTokens };
}

/** Both sides of a battle answer one more user turn. */
export async function answerTurn(store: ArenaStore, battle: ArenaBattle, question: string, answers: [string, string]): Promise<void> {
  await store.addUserTurn({ battleId: battle.id, content: question });
  await store.appendAnswer({ conversationId: battle.conversationAId, answer: answer(answers[0]) });
  await store.appendAnswer({ conversationId: battle.conversationBId, answer: answer(answers[1]) });
}

export async function answeredBattle(store: ArenaStore, modelA = 'alpha', modelB = 'beta', anony = true, question = 'What is 2+2?'): Promise<ArenaBattle> {
  const battle = await store.createBattle({ modelA, modelB, anony, judgeId: 'arena_user_j1', sessionId: 'session-1' });
  await answerTurn(store, battle, question, ['4', 'four']);
  return battle;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export async function rejection(promise: Promise<unknown>): Promise<FleetError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}
