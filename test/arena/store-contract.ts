/**
 * The ArenaStore contract, run against every backend (SQLite in sqlite-store.test.ts, a real PostgreSQL server in
 * postgres-store.test.ts): server-kept transcripts, one vote per battle that reveals it, feedback, export, import
 * with duplicates, independent concurrent writes, the live leaderboard, shared secrets.
 */
import type { FleetError } from '../../src/common/errors';
import type { ArenaStore, BattleLogRecord } from '../../src/arena/store';
import { storeLeaderboard } from '../../src/arena/store-leaderboard';
import { answer, answerTurn, answeredBattle, collect, rejection } from './support/transcript';

export interface ContractBackend {
  /** A fresh, empty store. */
  open(): Promise<ArenaStore>;
  /** A second, independent connection to the same database as the last `open()`. */
  reopen(): Promise<ArenaStore>;
}

export function storeContract(name: string, backend: () => ContractBackend): void {
  describe(`${name}: the ArenaStore contract`, () => {
    let store: ArenaStore;
    beforeEach(async () => {
      store = await backend().open();
    });
    afterEach(() => store.close());

    it('keeps the transcript: user turns and generated answers with finish reason and token counts', async () => {
      const chat = await store.createConversation({ model: 'alpha', judgeId: 'arena_user_j1', sessionId: 's1' });
      expect(chat).toMatchObject({ model: 'alpha', messages: [], sessionId: 's1', judgeId: 'arena_user_j1' });
      await store.addUserTurn({ conversationId: chat.id, content: 'Hi' });
      expect((await rejection(store.addUserTurn({ conversationId: chat.id, content: 'Hello?' }))).kind).toBe('conflict');
      await store.appendAnswer({ conversationId: chat.id, answer: { content: 'Hello', finishReason: 'length', promptTokens: 5, completionTokens: 2 } });
      expect((await rejection(store.appendAnswer({ conversationId: chat.id, answer: answer('again') }))).kind).toBe('conflict');
      const regenerated = await store.appendAnswer({ conversationId: chat.id, answer: answer('Hey there'), replaceLast: true });
      expect(regenerated.messages.map((m) => [m.role, m.content])).toEqual([['user', 'Hi'], ['assistant', 'Hey there']]);
      const stored = await store.getConversation(chat.id);
      expect(stored!.messages[1]).toMatchObject({ role: 'assistant', content: 'Hey there', finishReason: 'stop', promptTokens: 7, completionTokens: 3 });
      expect(typeof stored!.messages[0].tstampS).toBe('number');
      expect((await rejection(store.addUserTurn({ conversationId: 'nope', content: 'x' }))).kind).toBe('not_found');
      expect((await rejection(store.addUserTurn({ conversationId: chat.id, content: '' }))).param).toBe('message');
      expect((await rejection(store.appendAnswer({ conversationId: 'nope', answer: answer('x') }))).kind).toBe('not_found');
    });

    it('takes one vote per battle: the vote reveals it and ends its turns', async () => {
      const battle = await answeredBattle(store);
      expect(await store.getBattle(battle.id)).toEqual(battle);
      expect(battle).toMatchObject({ sessionId: 'session-1', anony: true });
      expect((await store.getConversation(battle.conversationAId))?.model).toBe('alpha');
      await answerTurn(store, battle, 'And 3+3?', ['6', 'six']);
      const vote = await store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'arena_user_j1', language: 'English' });
      expect(vote).toMatchObject({ battleId: battle.id, winner: 'model_a', turn: 2, language: 'English' });
      expect((await store.getBattle(battle.id))!.revealedAtMs).toBeGreaterThan(0);
      const again = await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'tie', judgeId: 'arena_user_j1' }));
      expect(again).toMatchObject({ kind: 'conflict', code: 'battle_revealed' });
      expect((await rejection(store.addUserTurn({ battleId: battle.id, content: 'one more' }))).code).toBe('battle_revealed');
      expect((await rejection(store.addUserTurn({ conversationId: battle.conversationAId, content: 'sneaky' }))).code).toBe('battle_revealed');
      expect((await rejection(store.appendAnswer({ conversationId: battle.conversationBId, answer: answer('late'), replaceLast: true }))).code).toBe('battle_revealed');
      expect((await store.counts()).battleVotes).toBe(1);
    });

    it('refuses votes on battles whose sides have not both answered, with typed errors', async () => {
      const battle = await store.createBattle({ modelA: 'alpha', modelB: 'beta', anony: true });
      expect((await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'j' }))).kind).toBe('invalid_request');
      await store.addUserTurn({ battleId: battle.id, content: 'q' });
      await store.appendAnswer({ conversationId: battle.conversationAId, answer: answer('only a') });
      expect((await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'j' }))).code).toBe('battle_unanswered');
      expect((await rejection(store.recordBattleVote({ battleId: 'nope', winner: 'model_a', judgeId: 'j' }))).kind).toBe('not_found');
      const bad = await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'leftvote' as 'model_a', judgeId: 'j' }));
      expect(bad).toMatchObject({ kind: 'invalid_request', param: 'winner' });
      expect((await rejection(store.createBattle({ modelA: 'same', modelB: 'same', anony: true }))).kind).toBe('invalid_request');
      expect((await rejection(store.addUserTurn({ battleId: 'nope', content: 'x' }))).kind).toBe('not_found');
    });

    it('records feedback on single-model conversations', async () => {
      const conversation = await store.createConversation({ model: 'alpha', judgeId: 'arena_user_j2' });
      expect((await rejection(store.recordFeedback({ conversationId: conversation.id, kind: 'upvote', judgeId: 'j' }))).kind).toBe('invalid_request');
      await store.addUserTurn({ conversationId: conversation.id, content: 'hi' });
      await store.appendAnswer({ conversationId: conversation.id, answer: answer('hello') });
      const feedback = await store.recordFeedback({ conversationId: conversation.id, kind: 'flag', judgeId: 'arena_user_j2' });
      expect(feedback).toMatchObject({ model: 'alpha', kind: 'flag', turn: 1 });
      expect(await store.counts()).toEqual({ conversations: 1, battles: 0, battleVotes: 0, feedback: 1 });
    });

    it('exports votes in FastChat battle-log format, oldest first, with filters', async () => {
      const anon = await answeredBattle(store, 'alpha', 'beta', true);
      const named = await answeredBattle(store, 'gamma', 'alpha', false);
      await store.recordBattleVote({ battleId: named.id, winner: 'model_b', judgeId: 'arena_user_j1', tstampS: 200.5 });
      await store.recordBattleVote({ battleId: anon.id, winner: 'tie', judgeId: 'arena_user_j1', tstampS: 100.25, language: 'English' });
      const records = await collect(store.exportBattleLog());
      expect(records).toEqual([
        {
          question_id: anon.conversationAId, model_a: 'alpha', model_b: 'beta', winner: 'tie', judge: 'arena_user_j1',
          conversation_a: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }],
          conversation_b: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: 'four' }],
          turn: 1, anony: true, language: 'English', tstamp: 100.25,
        },
        expect.objectContaining({ model_a: 'gamma', model_b: 'alpha', winner: 'model_b', anony: false, language: 'unknown', tstamp: 200.5 }),
      ]);
      expect((await collect(store.exportBattleLog({ anonyOnly: true }))).map((r) => r.model_a)).toEqual(['alpha']);
      expect((await collect(store.exportBattleLog({ sinceS: 150 }))).map((r) => r.model_a)).toEqual(['gamma']);
      expect(Object.keys((await collect(store.exportBattleLog({ withoutConversations: true })))[0])).not.toContain('conversation_a');
    });

    it('round-trips an exported log through import (more than one export page), keeps unknown fields, and skips duplicates', async () => {
      for (let start = 0; start < 600; start += 50) {
        await Promise.all(Array.from({ length: 50 }, async (_, k) => {
          const i = start + k;
          const battle = await answeredBattle(store, `m${i % 7}`, `m${(i + 1) % 7}`, i % 3 !== 0);
          await store.recordBattleVote({ battleId: battle.id, winner: i % 4 === 0 ? 'tie' : 'model_a', judgeId: `arena_user_${i % 5}`, tstampS: 1000 + i });
        }));
      }
      const exported = await collect(store.exportBattleLog());
      expect(exported).toHaveLength(600);
      const extra: BattleLogRecord = { model_a: 'x', model_b: 'y', winner: 'model_b', anony: true, tstamp: 5, conv_metadata: { sum_assistant_a_tokens: 3 } };
      const other = await backend().open();
      try {
        const report = await other.importBattleLog([...exported, extra, { model_a: 'x', winner: 'nobody' }, 'not an object']);
        expect(report).toMatchObject({ read: 603, imported: 601, duplicates: 0, rejected: 2 });
        expect(report.problems.map((p) => p.index)).toEqual([601, 602]);
        expect(report.problems[0].problem).toMatch(/model_b must be a non-empty string.*winner must be one of/);
        expect(await collect(other.exportBattleLog())).toEqual([extra, ...exported]);
        expect(await other.importBattleLog(exported)).toMatchObject({ imported: 0, duplicates: 600 });
      } finally {
        await other.close();
      }
      expect(await store.importBattleLog(exported)).toMatchObject({ imported: 0, duplicates: 600 });
    });

    it('settles writes issued together independently: one failing write does not undo the others', async () => {
      const battle = await answeredBattle(store);
      const results = await Promise.allSettled([
        store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'arena_user_j1' }),
        store.recordBattleVote({ battleId: battle.id, winner: 'model_b', judgeId: 'arena_user_j1' }),
        store.recordBattleVote({ battleId: 'missing', winner: 'model_b', judgeId: 'arena_user_j1' }),
        store.createConversation({ model: 'solo' }),
      ]);
      const kinds = results.map((r) => (r.status === 'rejected' ? (r.reason as FleetError).kind : 'ok'));
      expect(kinds.slice(0, 2).sort()).toEqual(['conflict', 'ok']);
      expect(kinds.slice(2)).toEqual(['not_found', 'ok']);
      expect(await store.counts()).toMatchObject({ battleVotes: 1, conversations: 3 });
      expect((await collect(store.exportBattleLog())).map((r) => r.winner)).toHaveLength(1);
    });

    it('rates its anonymous votes into a live leaderboard', async () => {
      for (const [winner, anony] of [['model_a', true], ['model_a', true], ['tie', true], ['model_b', true], ['model_b', false]] as const) {
        const battle = await answeredBattle(store, 'alpha', 'beta', anony);
        await store.recordBattleVote({ battleId: battle.id, winner, judgeId: 'arena_user_j1' });
      }
      const { board } = await storeLeaderboard(store, { bootstrapRounds: 10 });
      const rating = Object.fromEntries(board.models.map((m) => [m.model, m.rating]));
      expect(board.battles).toBe(4);
      expect(rating.alpha - rating.beta).toBeCloseTo(400 * Math.log10(2.5 / 1.5), 3); // 2 wins + half a tie of 4
      expect((await storeLeaderboard(store, { includeNamed: true, bootstrapRounds: 0 })).board.battles).toBe(5);
    });

    it('creates a shared secret once and gives every connection the same one', async () => {
      const secret = await store.sharedSecret('judge');
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(await store.sharedSecret('judge')).toBe(secret);
      expect(await store.sharedSecret('other')).not.toBe(secret);
      const second = await backend().reopen();
      try {
        expect(await second.sharedSecret('judge')).toBe(secret);
      } finally {
        await second.close();
      }
    });

    it('refuses calls after close', async () => {
      await store.close();
      expect((await rejection(store.counts())).kind).toBe('unavailable');
    });
  });
}
