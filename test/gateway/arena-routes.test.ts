/** The arena HTTP routes against a real stack with two different models (a, b) and a real SQLite file. */
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import type { BattleLogRecord } from '../../src/arena/store';
import { call, readSse, startArenaStack, type ArenaStack } from '../ui/support/arena-stack';

interface WireBattle { id: string; anony: boolean; conversation_a: string; conversation_b: string; model_a?: string; model_b?: string }
interface WireConversation { id: string; model?: string; messages: Array<{ role: string; content: string }> }
interface WireFeedback { conversation_id: string; kind: string; turn: number }
interface Board { battles: number; models: Array<{ model: string; rating: number; ci_low: number; ci_high: number; battles: number }> }
interface Completion { choices: Array<{ message: { content: string } }> }
interface WireVote { id: number; winner: string; turn: number; language: string; model_a: string; model_b: string }

const greedy = { temperature: 0, max_tokens: 12 };
const exchange = (question: string, answer: string) => [{ role: 'user', content: question }, { role: 'assistant', content: answer }];

describe('arena routes', () => {
  let arena: ArenaStack;
  let url: string;

  beforeAll(async () => {
    arena = await startArenaStack();
    url = arena.url;
  }, 120_000);
  afterAll(async () => arena?.stop());

  async function answer(model: string, content: string): Promise<string> {
    const res = await call<Completion>(`${url}/v1/chat/completions`, 'POST', { model, messages: [{ role: 'user', content }], ...greedy });
    expect(res.status).toBe(200);
    return res.body.choices[0].message.content;
  }

  it('lists the live chat models', async () => {
    expect((await call(`${url}/arena/models`, 'GET')).body).toEqual({ models: ['a', 'b'] });
  });

  it('pairs two different models in an anonymous battle, in both orders, without naming them', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const res = await call<WireBattle>(`${url}/arena/battles`, 'POST', {});
      expect(res.status).toBe(201);
      expect(res.body.anony).toBe(true);
      expect(res.body).not.toHaveProperty('model_a');
      expect(res.body).not.toHaveProperty('model_b');
      const stored = await SqliteArenaStore.open({ path: arena.dbPath });
      const row = await stored.getBattle(res.body.id);
      await stored.close();
      expect(row!.modelA).not.toBe(row!.modelB);
      orders.add(`${row!.modelA}-${row!.modelB}`);
    }
    expect(orders).toEqual(new Set(['a-b', 'b-a']));
  });

  it('streams each side from its hidden model, naming only the side, then reveals the names with the vote', async () => {
    const battle = (await call<WireBattle>(`${url}/arena/battles`, 'POST', {})).body;
    const question = 'Tell me something about the sea';
    const sides = await Promise.all(['a', 'b'].map(async (side) => {
      const res = await fetch(`${url}/arena/battles/${battle.id}/sides/${side}/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: question }], ...greedy }),
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      return readSse(res);
    }));
    for (const [i, side] of sides.entries()) {
      expect(side.status).toBe(200);
      expect(side.raw.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(new Set(side.chunks.map((c) => c.model))).toEqual(new Set([i === 0 ? 'model_a' : 'model_b']));
      expect(side.raw).not.toMatch(/"model":"[ab]"/);
    }
    const saved = await call<WireConversation>(`${url}/arena/conversations/${battle.conversation_a}/messages`, 'PUT', { messages: exchange(question, sides[0].text) });
    expect(saved.status).toBe(200);
    expect(saved.body).not.toHaveProperty('model');
    await call(`${url}/arena/conversations/${battle.conversation_b}/messages`, 'PUT', { messages: exchange(question, sides[1].text) });
    const vote = await call<WireVote>(`${url}/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_b' });
    expect(vote.status).toBe(201);
    expect(vote.body).toMatchObject({ winner: 'model_b', turn: 1, language: 'English' });
    expect(new Set([vote.body.model_a, vote.body.model_b])).toEqual(new Set(['a', 'b']));
    // Each side answered with its own model: the same greedy request to the named model gives the same text.
    expect(sides[0].text).toBe(await answer(vote.body.model_a, question));
    expect(sides[1].text).toBe(await answer(vote.body.model_b, question));
    expect(sides[0].text).not.toBe(sides[1].text);
  });

  it('confirms a vote only once it is in the database, and refuses a second vote on the same turn', async () => {
    const battle = (await call<WireBattle>(`${url}/arena/battles`, 'POST', {})).body;
    const early = await call(`${url}/arena/battles/${battle.id}/votes`, 'POST', { winner: 'tie' });
    expect(early.status).toBe(400);
    expect(early.body.error.type).toBe('invalid_request_error');
    const question = `Hi from ${battle.id}`;
    await call(`${url}/arena/conversations/${battle.conversation_a}/messages`, 'PUT', { messages: exchange(question, 'Hello!') });
    await call(`${url}/arena/conversations/${battle.conversation_b}/messages`, 'PUT', { messages: exchange(question, 'Hey.') });
    const vote = await call<WireVote>(`${url}/arena/battles/${battle.id}/votes`, 'POST', { winner: 'tie (bothbad)' });
    expect(vote.status).toBe(201);
    // A second connection to the file sees the vote as soon as the answer arrived.
    const other = await SqliteArenaStore.open({ path: arena.dbPath });
    const mine: BattleLogRecord[] = [];
    for await (const r of other.exportBattleLog()) if ((r.conversation_a as unknown as Array<{ content: string }>)[0].content === question) mine.push(r);
    await other.close();
    expect(mine.map((r) => [r.winner, r.conversation_b])).toEqual([['tie (bothbad)', exchange(question, 'Hey.')]]);
    const again = await call(`${url}/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_a' });
    expect(again.status).toBe(409);
    expect(again.body.error.type).toBe('conflict_error');
  });

  it('runs a named side-by-side battle with the chosen models and rejects bad pairs', async () => {
    const named = await call<WireBattle>(`${url}/arena/battles`, 'POST', { anony: false, model_a: 'b', model_b: 'a' });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ anony: false, model_a: 'b', model_b: 'a' });
    const same = await call(`${url}/arena/battles`, 'POST', { anony: false, model_a: 'a', model_b: 'a' });
    expect(same.status).toBe(400);
    expect(same.body.error.param).toBe('model_b');
    const unknown = await call(`${url}/arena/battles`, 'POST', { anony: false, model_a: 'a', model_b: 'zzz' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/zzz/);
    const mixed = await call(`${url}/arena/battles`, 'POST', { model_a: 'a' });
    expect(mixed.status).toBe(400);
  });

  it('rejects bad side requests with OpenAI-shaped errors', async () => {
    const battle = (await call<WireBattle>(`${url}/arena/battles`, 'POST', {})).body;
    const messages = [{ role: 'user', content: 'Hi' }];
    expect((await call(`${url}/arena/battles/${battle.id}/sides/c/chat/completions`, 'POST', { messages })).status).toBe(404);
    expect((await call(`${url}/arena/battles/nope/sides/a/chat/completions`, 'POST', { messages })).status).toBe(404);
    const withModel = await call(`${url}/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { model: 'a', messages });
    expect(withModel.status).toBe(400);
    expect(withModel.body.error.param).toBe('model');
    const twoChoices = await call(`${url}/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { messages, n: 2 });
    expect(twoChoices.status).toBe(400);
    const bad = await call(`${url}/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { messages: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('messages');
  });

  it('stores single-model conversations and their feedback', async () => {
    const created = await call<WireConversation>(`${url}/arena/conversations`, 'POST', { model: 'a' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ model: 'a', messages: [] });
    const id = created.body.id;
    const updated = await call<WireConversation>(`${url}/arena/conversations/${id}/messages`, 'PUT', { messages: exchange('Hi', 'Hello') });
    expect(updated.body.messages).toEqual(exchange('Hi', 'Hello'));
    const up = await call<WireFeedback>(`${url}/arena/conversations/${id}/feedback`, 'POST', { kind: 'upvote' });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ conversation_id: id, kind: 'upvote', turn: 1 });
    expect((await call(`${url}/arena/conversations/${id}/feedback`, 'POST', { kind: 'love' })).status).toBe(400);
    expect((await call(`${url}/arena/conversations/missing/feedback`, 'POST', { kind: 'flag' })).status).toBe(404);
    expect((await call(`${url}/arena/conversations`, 'POST', { model: 'zzz' })).status).toBe(404);
    expect((await call(`${url}/arena/conversations/${id}/messages`, 'PUT', { messages: [{ role: 'robot', content: 'x' }] })).status).toBe(400);
  });

  it('serves the leaderboard of anonymous votes as JSON and as an SVG chart, and exports the battle log', async () => {
    const board = await call<Board>(`${url}/arena/leaderboard`, 'GET');
    expect(board.status).toBe(200);
    // Two anonymous votes so far (model_b wins, both bad); the named battle has none.
    expect(board.body.battles).toBe(2);
    expect(board.body.models.map((m) => m.model).sort()).toEqual(['a', 'b']);
    for (const m of board.body.models) {
      expect(m.battles).toBe(2);
      expect(m.ci_low).toBeLessThanOrEqual(m.rating);
      expect(m.ci_high).toBeGreaterThanOrEqual(m.rating);
    }
    const svg = await fetch(`${url}/arena/leaderboard.svg`);
    expect(svg.headers.get('content-type')).toMatch(/image\/svg\+xml/);
    const text = await svg.text();
    expect(text).toMatch(/^<svg|^<\?xml/);
    expect(text).toContain('>a<');
    const json = await fetch(`${url}/arena/battle-log?format=json`);
    const records = JSON.parse(await json.text()) as BattleLogRecord[];
    expect(records).toHaveLength(2);
    expect(records.map((r) => r.winner).sort()).toEqual(['model_b', 'tie (bothbad)']);
    expect(records[0]).toMatchObject({ anony: true, judge: expect.stringMatching(/^arena_user_/) });
    const lines = (await (await fetch(`${url}/arena/battle-log?format=jsonl&simple=true`)).text()).trim().split('\n').map((l) => JSON.parse(l) as BattleLogRecord);
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toHaveProperty('conversation_a');
    expect((await call(`${url}/arena/battle-log?format=xml`, 'GET')).status).toBe(400);
  });
});
