/**
 * The arena HTTP routes against a real stack with two different models (a, b) and a real SQLite file: the server
 * keeps the transcript (user message as received, each answer as generated), sessions own what they create, and the
 * integrity rules hold — a fake turn is refused, a second vote is refused, a vote after the reveal is refused,
 * another session's battle is refused. Also: rate limits, --trust-proxy, the admin-only export.
 */
import { parseConfig } from '../../src/common/config';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import type { BattleLogRecord } from '../../src/arena/store';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import { ArenaClient, call, startArenaStack, type ArenaStack, type ErrorBody } from '../ui/support/arena-stack';

interface WireBattle { id: string; anony: boolean; conversation_a: string; conversation_b: string; model_a?: string; model_b?: string; revealed: number | null }
interface WireMessage { role: string; content: string; finish_reason?: string; usage?: { prompt_tokens: number; completion_tokens: number } }
interface BattleState extends WireBattle { messages_a: WireMessage[]; messages_b: WireMessage[] }
interface WireConversation { id: string; model?: string; messages: WireMessage[] }
interface WireFeedback { conversation_id: string; kind: string; turn: number }
interface Completion { choices: Array<{ message: { content: string } }> }
interface WireVote { id: number; winner: string; turn: number; language: string; model_a: string; model_b: string }

const greedy = { temperature: 0, max_tokens: 12 };
const ADMIN = 'adm-routes-test-key';

describe('arena routes', () => {
  let arena: ArenaStack;
  let url: string;
  const extra: RunningGateway[] = [];

  beforeAll(async () => {
    arena = await startArenaStack(['--admin-keys', ADMIN, '--arena-session-rate', '0', '--arena-judge-rate', '0']);
    url = arena.url;
  }, 120_000);
  afterAll(async () => {
    for (const g of extra) await g.stop();
    await arena?.stop();
  });

  async function gateway(args: string[]): Promise<RunningGateway> {
    const g = await startGateway(parseConfig(gatewayOptions, ['--controller', arena.stack.controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:', '--ui', 'false', ...args]), arena.stack.logger);
    extra.push(g);
    return g;
  }

  async function greedyAnswer(model: string, content: string): Promise<string> {
    const res = await call<Completion>(`${url}/v1/chat/completions`, 'POST', { model, messages: [{ role: 'user', content }], ...greedy });
    expect(res.status).toBe(200);
    return res.body.choices[0].message.content;
  }

  /** A battle of `client` whose two sides answered one message. */
  async function answeredBattle(client: ArenaClient, question: string): Promise<WireBattle> {
    const battle = (await client.call<WireBattle>('/arena/battles', 'POST', {})).body;
    expect((await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: question })).status).toBe(201);
    for (const side of ['a', 'b']) expect((await client.stream(`/arena/battles/${battle.id}/sides/${side}/chat/completions`, greedy)).status).toBe(200);
    return battle;
  }

  async function exported(): Promise<BattleLogRecord[]> {
    const res = await fetch(`${url}/arena/battle-log?format=jsonl`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    return (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as BattleLogRecord);
  }

  it('lists the live chat models and sets an HttpOnly signed session cookie on first contact', async () => {
    const client = new ArenaClient(url);
    const first = await client.call<{ models: string[] }>('/arena/models', 'GET');
    expect(first.body).toEqual({ models: ['a', 'b'] });
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^fleetchat_session=[\w-]{24}\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect((await client.call('/arena/models', 'GET')).headers.get('set-cookie')).toBeNull();
    const forged = await call(`${url}/arena/models`, 'GET', undefined, { cookie: `${client.cookie!.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(200);
    expect((await fetch(`${url}/v1/models`)).headers.get('set-cookie')).toBeNull();
  });

  it('pairs two different models in an anonymous battle, in both orders, with unguessable ids and no names', async () => {
    const client = new ArenaClient(url);
    const orders = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const res = await client.call<WireBattle>('/arena/battles', 'POST', {});
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ anony: true, revealed: null });
      expect(res.body).not.toHaveProperty('model_a');
      expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // 122 random bits
      const stored = await SqliteArenaStore.open({ path: arena.dbPath });
      const row = await stored.getBattle(res.body.id);
      await stored.close();
      expect(row!.modelA).not.toBe(row!.modelB);
      orders.add(`${row!.modelA}-${row!.modelB}`);
    }
    expect(orders).toEqual(new Set(['a-b', 'b-a']));
  });

  it('records the user message as received and each side\'s answer as generated, then reveals the names with the vote', async () => {
    const client = new ArenaClient(url);
    const battle = (await client.call<WireBattle>('/arena/battles', 'POST', {})).body;
    const question = 'Tell me something about the sea';
    expect((await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: question })).body).toEqual({ battle_id: battle.id, turn: 1 });
    const sides = await Promise.all(['a', 'b'].map((side) => client.stream(`/arena/battles/${battle.id}/sides/${side}/chat/completions`, { ...greedy, stream_options: { include_usage: true } })));
    for (const [i, side] of sides.entries()) {
      expect(side.status).toBe(200);
      expect(side.raw.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(new Set(side.chunks.map((c) => c.model))).toEqual(new Set([i === 0 ? 'model_a' : 'model_b']));
      expect(side.raw).not.toMatch(/"model":"[ab]"/);
    }
    const state = (await client.call<BattleState>(`/arena/battles/${battle.id}`, 'GET')).body;
    expect(state).not.toHaveProperty('model_a');
    for (const [i, messages] of [state.messages_a, state.messages_b].entries()) {
      expect(messages[0]).toEqual({ role: 'user', content: question });
      expect(messages[1]).toMatchObject({ role: 'assistant', content: sides[i].text, finish_reason: 'length' });
      expect(messages[1].usage!.completion_tokens).toBe(12);
      expect(messages[1].usage!.prompt_tokens).toBeGreaterThan(0);
    }
    const vote = await client.call<WireVote>(`/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_b' });
    expect(vote.status).toBe(201);
    expect(vote.body).toMatchObject({ winner: 'model_b', turn: 1, language: 'English' });
    expect(new Set([vote.body.model_a, vote.body.model_b])).toEqual(new Set(['a', 'b']));
    expect((await client.call<BattleState>(`/arena/battles/${battle.id}`, 'GET')).body).toMatchObject({ model_a: vote.body.model_a, model_b: vote.body.model_b });
    expect(sides[0].text).toBe(await greedyAnswer(vote.body.model_a, question));
    expect(sides[1].text).toBe(await greedyAnswer(vote.body.model_b, question));
    const record = (await exported()).find((r) => r.question_id === battle.conversation_a)!;
    expect(record.conversation_a).toEqual([{ role: 'user', content: question }, { role: 'assistant', content: sides[0].text }]);
    expect(record.conversation_b).toEqual([{ role: 'user', content: question }, { role: 'assistant', content: sides[1].text }]);
  });

  it('refuses a fake turn: client-written transcripts and assistant text', async () => {
    const client = new ArenaClient(url);
    const battle = await answeredBattle(client, 'Hi there');
    const put = await client.call(`/arena/conversations/${battle.conversation_a}/messages`, 'PUT', { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'I am the best model' }] });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe('client_transcript_refused');
    const side = await client.call(`/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { messages: [{ role: 'assistant', content: 'fake' }] });
    expect(side).toMatchObject({ status: 400, body: { error: { code: 'client_transcript_refused' } } });
    const turn = await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { messages: [{ role: 'user', content: 'x' }] });
    expect(turn.body.error.code).toBe('client_transcript_refused');
    expect((await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: 'x', role: 'assistant' })).status).toBe(400);
    // Arena models are compared on plain answers: tools are refused by name, never half-applied.
    const tools = await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: 'x', tools: [{ type: 'function', function: { name: 'f' } }] });
    expect(tools).toMatchObject({ status: 400, body: { error: { code: 'tools_not_supported', param: 'tools' } } });
    // A second user message before the sides answered the first is refused too.
    expect((await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: 'one' })).status).toBe(201);
    expect((await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: 'two' })).body.error.code).toBe('turn_unanswered');
    const state = (await client.call<BattleState>(`/arena/battles/${battle.id}`, 'GET')).body;
    expect(state.messages_a.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(state.messages_a[1].content).not.toBe('I am the best model');
  });

  it('refuses a second vote, and a vote or a new turn after the reveal', async () => {
    const client = new ArenaClient(url);
    const unanswered = (await client.call<WireBattle>('/arena/battles', 'POST', {})).body;
    expect((await client.call(`/arena/battles/${unanswered.id}/votes`, 'POST', { winner: 'tie' })).status).toBe(400);
    const battle = await answeredBattle(client, 'Which is larger, 3 or 4?');
    expect((await client.call(`/arena/battles/${battle.id}/votes`, 'POST', { winner: 'tie (bothbad)' })).status).toBe(201);
    const again = await client.call(`/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_a' });
    expect(again).toMatchObject({ status: 409, body: { error: { type: 'conflict_error', code: 'battle_revealed' } } });
    // The fake-turn trick: one more round on the revealed battle to vote on it again as anonymous.
    const more = await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: 'And 5 or 6?' });
    expect(more).toMatchObject({ status: 409, body: { error: { code: 'battle_revealed' } } });
    expect((await client.call(`/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { regenerate: true })).status).toBe(409);
    expect((await client.call(`/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_b' })).status).toBe(409);
    expect((await exported()).filter((r) => r.question_id === battle.conversation_a).map((r) => r.winner)).toEqual(['tie (bothbad)']);
  });

  it('refuses another session\'s battle and conversation, and a request without the cookie', async () => {
    const owner = new ArenaClient(url);
    const battle = await answeredBattle(owner, 'Hello');
    const other = new ArenaClient(url);
    await other.call('/arena/models', 'GET');
    for (const [method, path, body] of [
      ['POST', `/arena/battles/${battle.id}/votes`, { winner: 'model_a' }],
      ['POST', `/arena/battles/${battle.id}/messages`, { message: 'mine now' }],
      ['POST', `/arena/battles/${battle.id}/sides/a/chat/completions`, { regenerate: true }],
      ['GET', `/arena/battles/${battle.id}`, undefined],
      ['GET', `/arena/conversations/${battle.conversation_a}`, undefined],
    ] as const) {
      const res = await other.call(path, method, body);
      expect([path, res.status, res.body.error.code]).toEqual([path, 403, 'session_mismatch']);
    }
    const anonymous = await call(`${url}/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_a' });
    expect(anonymous.status).toBe(403);
    expect((await owner.call(`/arena/battles/${battle.id}/votes`, 'POST', { winner: 'model_a' })).status).toBe(201);
  });

  it('runs a named side-by-side battle with the chosen models, recorded by the server, and rejects bad pairs', async () => {
    const client = new ArenaClient(url);
    const named = await client.call<WireBattle>('/arena/battles', 'POST', { anony: false, model_a: 'b', model_b: 'a' });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ anony: false, model_a: 'b', model_b: 'a' });
    await client.call(`/arena/battles/${named.body.id}/messages`, 'POST', { message: 'Name a colour' });
    const side = await client.stream(`/arena/battles/${named.body.id}/sides/a/chat/completions`, greedy);
    expect(side.chunks[0].model).toBe('b');
    expect(side.text).toBe(await greedyAnswer('b', 'Name a colour'));
    expect((await client.call(`/arena/battles`, 'POST', { anony: false, model_a: 'a', model_b: 'a' })).body.error.param).toBe('model_b');
    expect((await client.call('/arena/battles', 'POST', { anony: false, model_a: 'a', model_b: 'zzz' })).status).toBe(404);
    expect((await client.call('/arena/battles', 'POST', { model_a: 'a' })).status).toBe(400);
  });

  it('rejects bad side requests with OpenAI-shaped errors', async () => {
    const client = new ArenaClient(url);
    const battle = (await client.call<WireBattle>('/arena/battles', 'POST', {})).body;
    expect((await client.call(`/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', greedy)).body.error.code).toBe('nothing_to_answer');
    await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: 'Hi' });
    expect((await client.call(`/arena/battles/${battle.id}/sides/c/chat/completions`, 'POST', {})).status).toBe(404);
    expect((await client.call('/arena/battles/nope/sides/a/chat/completions', 'POST', {})).status).toBe(404);
    expect((await client.call(`/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { model: 'a' })).body.error.param).toBe('model');
    expect((await client.call(`/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { n: 2 })).status).toBe(400);
    expect((await client.call(`/arena/battles/${battle.id}/sides/a/chat/completions`, 'POST', { message: 'side message' })).body.error.param).toBe('message');
    expect((await client.call(`/arena/battles/${battle.id}/messages`, 'POST', { message: '' })).body.error.param).toBe('message');
  });

  it('keeps single-model conversations on the server: streamed answers, regenerate, feedback', async () => {
    const client = new ArenaClient(url);
    const created = await client.call<WireConversation>('/arena/conversations', 'POST', { model: 'a' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ model: 'a', messages: [] });
    const id = created.body.id;
    const first = await client.stream(`/arena/conversations/${id}/chat/completions`, { message: 'Hi', ...greedy });
    expect(first.text).toBe(await greedyAnswer('a', 'Hi'));
    const regenerated = await client.stream(`/arena/conversations/${id}/chat/completions`, { regenerate: true, temperature: 1, seed: 7, max_tokens: 5 });
    expect(regenerated.status).toBe(200);
    const stored = (await client.call<WireConversation>(`/arena/conversations/${id}`, 'GET')).body;
    expect(stored.messages).toEqual([{ role: 'user', content: 'Hi' }, expect.objectContaining({ role: 'assistant', content: regenerated.text, finish_reason: expect.any(String) })]);
    const up = await client.call<WireFeedback>(`/arena/conversations/${id}/feedback`, 'POST', { kind: 'upvote' });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ conversation_id: id, kind: 'upvote', turn: 1 });
    expect((await client.call(`/arena/conversations/${id}/feedback`, 'POST', { kind: 'love' })).status).toBe(400);
    expect((await client.call('/arena/conversations/missing/feedback', 'POST', { kind: 'flag' })).status).toBe(404);
    expect((await client.call('/arena/conversations', 'POST', { model: 'zzz' })).status).toBe(404);
    expect((await new ArenaClient(url).call(`/arena/conversations/${id}/feedback`, 'POST', { kind: 'flag' })).status).toBe(403);
  });

  it('serves the leaderboard publicly and the battle log only with an admin key, never an API key', async () => {
    const board = await call<{ battles: number }>(`${url}/arena/leaderboard`, 'GET');
    expect(board.status).toBe(200);
    expect(board.body.battles).toBeGreaterThan(0);
    const styled = await call<{ style_control: { battles: number }; models: Array<{ style_rating: number }> }>(`${url}/arena/leaderboard?style_control=true`, 'GET');
    expect(styled.body.style_control.battles).toBe(board.body.battles);
    expect(styled.body.models.every((m) => Number.isFinite(m.style_rating))).toBe(true);
    expect((await fetch(`${url}/arena/leaderboard.svg?style_control=true`)).headers.get('content-type')).toMatch(/svg/);
    expect((await call(`${url}/arena/battle-log`, 'GET')).status).toBe(401);
    expect((await call(`${url}/arena/battle-log`, 'GET', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const res = await fetch(`${url}/arena/battle-log`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="battles.json"');
    const secured = await gateway(['--api-keys', 'sk-user']);
    const withApiKey = await call<ErrorBody>(`${secured.url}/arena/battle-log`, 'GET', undefined, { authorization: 'Bearer sk-user' });
    expect(withApiKey.status).toBe(403);
    expect(withApiKey.body.error.code).toBe('admin_disabled');
  });

  it('limits writes per session and per client address', async () => {
    const limited = await gateway(['--arena-session-rate', '3', '--arena-judge-rate', '5']);
    const client = new ArenaClient(limited.url);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.call('/arena/battles', 'POST', {})).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const over = await client.call('/arena/battles', 'POST', {});
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const second = new ArenaClient(limited.url);
    // A new session from the same address: the address has 2 of its 5 writes left.
    expect((await second.call('/arena/battles', 'POST', {})).status).toBe(201);
    expect((await second.call('/arena/battles', 'POST', {})).status).toBe(201);
    expect((await second.call('/arena/battles', 'POST', {})).body.error.message).toMatch(/client address/);
  });

  it('tells judges apart behind a trusted proxy (--trust-proxy), and only then', async () => {
    const judgesOf = async (args: string[]): Promise<string[]> => {
      const g = await gateway(['--admin-keys', ADMIN, '--arena-session-rate', '0', ...args]);
      const judges: string[] = [];
      for (const ip of ['203.0.113.7', '198.51.100.9']) {
        const client = new ArenaClient(g.url, { 'x-forwarded-for': ip });
        const battle = await answeredBattle(client, `from ${ip}`);
        await client.call(`/arena/battles/${battle.id}/votes`, 'POST', { winner: 'tie' });
      }
      const res = await fetch(`${g.url}/arena/battle-log?format=jsonl`, { headers: { authorization: `Bearer ${ADMIN}` } });
      for (const line of (await res.text()).split('\n')) if (line !== '') judges.push((JSON.parse(line) as BattleLogRecord).judge!);
      return judges;
    };
    const behind = await judgesOf(['--trust-proxy', '127.0.0.1/8', '--judge-secret', 'a-fixed-judge-secret-for-tests']);
    expect(new Set(behind).size).toBe(2);
    const untrusted = await judgesOf(['--judge-secret', 'a-fixed-judge-secret-for-tests']);
    expect(new Set(untrusted).size).toBe(1);
    expect(behind).not.toContain(untrusted[0]);
  }, 60_000);
});
