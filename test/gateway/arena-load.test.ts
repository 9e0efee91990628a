/**
 * Bounded load test: many HTTP clients (one keep-alive connection each) vote at once on 127.0.0.1. Every vote is
 * answered, every confirmed vote is in the database file with the winner its client sent (also after the gateway
 * stopped), and two connections racing on the same battle get exactly one vote stored.
 */
import { Agent, request } from 'node:http';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import type { BattleLogRecord, Winner } from '../../src/arena/store';
import { answer } from '../arena/support/transcript';
import { ArenaClient, call, startArenaStack, type ArenaStack } from '../ui/support/arena-stack';

interface WireBattle { id: string; conversation_a: string; conversation_b: string }

const CLIENTS = 40;
const VOTES_PER_CLIENT = 6;
const RACED_BATTLES = 20;
const WINNERS: Winner[] = ['model_a', 'model_b', 'tie', 'tie (bothbad)'];

function post(agent: Agent, url: string, body: unknown, cookie: string): Promise<{ status: number; body: { id?: number; winner?: string } }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { id?: number; winner?: string } }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe('arena votes under load', () => {
  let arena: ArenaStack;

  beforeAll(async () => {
    arena = await startArenaStack(['--arena-session-rate', '0', '--arena-judge-rate', '0']);
  }, 120_000);
  afterAll(async () => arena?.stop());

  it('loses no vote from many concurrent clients and stores one vote per raced turn', async () => {
    const url = arena.url;
    const total = CLIENTS * VOTES_PER_CLIENT + RACED_BATTLES;
    // Each client has its own session; its battles are created over HTTP and answered through a second connection
    // to the database (the answers' generation is not what this test measures).
    const clients = Array.from({ length: CLIENTS }, () => new ArenaClient(url));
    await Promise.all(clients.map((c) => c.call('/arena/models', 'GET'))); // each gets its session cookie
    const battles: WireBattle[] = [];
    const owner: ArenaClient[] = [];
    const writer = await SqliteArenaStore.open({ path: arena.dbPath });
    await inBatches(Array.from({ length: total }, (_, i) => i), 16, async (i) => {
      const client = i < CLIENTS * VOTES_PER_CLIENT ? clients[Math.floor(i / VOTES_PER_CLIENT)] : clients[(2 * (i - CLIENTS * VOTES_PER_CLIENT)) % CLIENTS];
      const battle = (await client.call<WireBattle>('/arena/battles', 'POST', {})).body;
      await writer.addUserTurn({ battleId: battle.id, content: `question ${i}` });
      await writer.appendAnswer({ conversationId: battle.conversation_a, answer: answer(`answer a ${i}`) });
      await writer.appendAnswer({ conversationId: battle.conversation_b, answer: answer(`answer b ${i}`) });
      battles[i] = battle;
      owner[i] = client;
    });
    await writer.close();

    const agents = Array.from({ length: CLIENTS }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const expected = new Map<string, Winner>();
    const started = performance.now();
    const single = agents.map(async (agent, c) => {
      const results = [];
      for (let k = 0; k < VOTES_PER_CLIENT; k++) {
        const i = c * VOTES_PER_CLIENT + k;
        const winner = WINNERS[(c + k) % WINNERS.length];
        expected.set(battles[i].id, winner);
        results.push(await post(agent, `${url}/arena/battles/${battles[i].id}/votes`, { winner }, owner[i].cookie!));
      }
      return results;
    });
    // Two connections of the battle's own session race on its one vote.
    const raced = battles.slice(CLIENTS * VOTES_PER_CLIENT).map((battle, r) =>
      Promise.all([0, 1].map((j) => post(agents[(2 * r + j) % CLIENTS], `${url}/arena/battles/${battle.id}/votes`, { winner: WINNERS[j] }, owner[CLIENTS * VOTES_PER_CLIENT + r].cookie!))));
    const [singleResults, racedResults] = await Promise.all([Promise.all(single), Promise.all(raced)]);
    const elapsedMs = performance.now() - started;
    for (const agent of agents) agent.destroy();

    const confirmed = singleResults.flat();
    expect(confirmed.map((r) => r.status)).toEqual(new Array(CLIENTS * VOTES_PER_CLIENT).fill(201));
    for (const pair of racedResults) expect(pair.map((r) => r.status).sort()).toEqual([201, 409]);
    const ids = [...confirmed, ...racedResults.flat().filter((r) => r.status === 201)].map((r) => r.body.id);
    expect(new Set(ids).size).toBe(total);

    const board = await call<{ battles: number }>(`${url}/arena/leaderboard`, 'GET');
    expect(board.body.battles).toBe(total);

    // Stop the gateway, then read the file with a fresh connection.
    await arena.stack.gateway.stop();
    const store = await SqliteArenaStore.open({ path: arena.dbPath });
    const records: BattleLogRecord[] = [];
    for await (const r of store.exportBattleLog({ withoutConversations: false })) records.push(r);
    expect((await store.counts()).battleVotes).toBe(total);
    await store.close();
    const byQuestion = new Map(records.map((r) => [(r.conversation_a as unknown as Array<{ content: string }>)[0].content, r.winner]));
    battles.slice(0, CLIENTS * VOTES_PER_CLIENT).forEach((b, i) => expect(byQuestion.get(`question ${i}`)).toBe(expected.get(b.id)));
    racedResults.forEach((pair, r) => {
      const won = pair.findIndex((x) => x.status === 201);
      expect(byQuestion.get(`question ${CLIENTS * VOTES_PER_CLIENT + r}`)).toBe(WINNERS[won]);
    });
    process.stdout.write(`arena load: ${total + RACED_BATTLES} vote requests from ${CLIENTS} clients in ${elapsedMs.toFixed(0)} ms (${((total + RACED_BATTLES) / (elapsedMs / 1000)).toFixed(0)} req/s)\n`);
  }, 120_000);
});
