/**
 * Several gateways on one real PostgreSQL database (the harness starts the server): an in-process gateway and a
 * second gateway process share one arena. 100 clients cast 2,000 votes at once, alternating between the two
 * gateways, plus 100 battles voted through both gateways at the same moment: every confirmed vote is stored once
 * with its winner, and each raced battle stores exactly one. Then a third gateway process is SIGKILLed while votes
 * are in flight: every vote it confirmed is stored, nothing is stored twice, and the unconfirmed ones can be cast
 * again elsewhere (stored exactly once in the end).
 */
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { PostgresArenaStore } from '../../src/arena/postgres/pg-store';
import type { BattleLogRecord, Winner } from '../../src/arena/store';
import { answer } from '../arena/support/transcript';
import { spawnCli, waitForOutput } from '../support/cli';
import { startPostgres, type PostgresServer } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';
import { ArenaClient, arenaModelDirs } from '../ui/support/arena-stack';

interface WireBattle { id: string; conversation_a: string; conversation_b: string }
interface Reply { status: number; body: { id?: number; winner?: string; error?: { code: string | null } } }

const CLIENTS = 100;
const VOTES_PER_CLIENT = 20;
const WINNERS: Winner[] = ['model_a', 'model_b', 'tie', 'tie (bothbad)'];
const ADMIN = 'adm-pg-test';
const GATEWAY_ARGS = ['--arena-session-rate', '0', '--arena-judge-rate', '0', '--admin-keys', ADMIN, '--ui', 'false'];

function post(agent: Agent, url: string, body: unknown, cookie: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Reply['body'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function pool<T>(items: T[], concurrency: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await run(items[next++]);
  }));
}

async function spawnGateway(controller: string, db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnCli(['gateway', '--controller', controller, '--listen', '127.0.0.1:0', '--db', db, ...GATEWAY_ARGS], { FLEETCHAT_LOG_LEVEL: 'info' });
  const m = await waitForOutput(child, /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*gateway listening/, 60_000);
  return { child, url: m[1] };
}

describe('several gateways on one PostgreSQL arena', () => {
  let pg: PostgresServer;
  let db: string;
  let stack: Stack;
  let second: { child: ChildProcess; url: string };
  let store: PostgresArenaStore;

  beforeAll(async () => {
    pg = await startPostgres();
    db = await pg.createDatabase('arena');
    const [a, b] = await arenaModelDirs();
    stack = await startStack({ workers: [{ model: a, names: ['a'] }, { model: b, names: ['b'] }], gatewayArgs: ['--db', db, ...GATEWAY_ARGS] });
    second = await spawnGateway(stack.controller.address, db);
    store = await PostgresArenaStore.open({ url: db, maxConnections: 20 });
  }, 180_000);

  afterAll(async () => {
    second?.child.kill('SIGTERM');
    await store?.close();
    await stack?.stop();
    await pg?.stop();
  });

  /** Battles of `client` created over HTTP on `gateway`; both sides answered through the store (not what is measured). */
  async function battlesOf(client: ArenaClient, count: number, tag: string): Promise<WireBattle[]> {
    const out: WireBattle[] = [];
    for (let i = 0; i < count; i++) {
      const res = await client.call<WireBattle>('/arena/battles', 'POST', {});
      expect(res.status).toBe(201);
      out.push(res.body);
    }
    await pool(out, 4, async (battle) => {
      await store.addUserTurn({ battleId: battle.id, content: `${tag} ${battle.id}` });
      await store.appendAnswer({ conversationId: battle.conversation_a, answer: answer('answer a') });
      await store.appendAnswer({ conversationId: battle.conversation_b, answer: answer('answer b') });
    });
    return out;
  }

  async function exported(url: string): Promise<BattleLogRecord[]> {
    const res = await fetch(`${url}/arena/battle-log?format=jsonl&simple=false`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    return (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as BattleLogRecord);
  }

  it('takes 2,000 concurrent votes from 100 clients through two gateways with none lost or duplicated', async () => {
    const gateways = [stack.url, second.url];
    // Each client gets its cookie from one gateway and uses it on both: the replicas share the secret in the database.
    const clients = Array.from({ length: CLIENTS }, (_, c) => new ArenaClient(gateways[c % 2]));
    await Promise.all(clients.map((c) => c.call('/arena/models', 'GET')));
    const battles: WireBattle[][] = [];
    await pool(clients.map((c, i) => [c, i] as const), 10, async ([client, i]) => {
      battles[i] = await battlesOf(client, VOTES_PER_CLIENT + 1, 'vote');
    });

    const agents = gateways.map(() => Array.from({ length: CLIENTS }, () => new Agent({ keepAlive: true, maxSockets: 2 })));
    const expected = new Map<string, Winner>();
    const started = performance.now();
    const single = clients.map(async (client, c) => {
      const results: Reply[] = [];
      for (let k = 0; k < VOTES_PER_CLIENT; k++) {
        const winner = WINNERS[(c + k) % WINNERS.length];
        const battle = battles[c][k];
        expected.set(battle.id, winner);
        results.push(await post(agents[k % 2][c], `${gateways[k % 2]}/arena/battles/${battle.id}/votes`, { winner }, client.cookie!));
      }
      return results;
    });
    // The last battle of each client: voted through both gateways at the same moment.
    const raced = clients.map((client, c) => Promise.all([0, 1].map((g) =>
      post(agents[g][c], `${gateways[g]}/arena/battles/${battles[c][VOTES_PER_CLIENT].id}/votes`, { winner: WINNERS[g] }, client.cookie!))));
    const [singleResults, racedResults] = await Promise.all([Promise.all(single), Promise.all(raced)]);
    const elapsedMs = performance.now() - started;
    for (const agent of agents.flat()) agent.destroy();

    const confirmed = singleResults.flat();
    expect(confirmed.filter((r) => r.status !== 201)).toEqual([]);
    expect(confirmed).toHaveLength(CLIENTS * VOTES_PER_CLIENT);
    for (const pair of racedResults) expect(pair.map((r) => r.status).sort()).toEqual([201, 409]);
    const ids = [...confirmed, ...racedResults.flat().filter((r) => r.status === 201)].map((r) => r.body.id);
    expect(new Set(ids).size).toBe(CLIENTS * (VOTES_PER_CLIENT + 1));

    const records = await exported(second.url);
    expect(records).toHaveLength(CLIENTS * (VOTES_PER_CLIENT + 1));
    const byBattle = new Map<string, string[]>();
    for (const r of records) byBattle.set(r.question_id!, [...(byBattle.get(r.question_id!) ?? []), r.winner]);
    battles.forEach((mine, c) => {
      mine.slice(0, VOTES_PER_CLIENT).forEach((b) => expect(byBattle.get(b.conversation_a)).toEqual([expected.get(b.id)]));
      const won = racedResults[c].findIndex((r) => r.status === 201);
      expect(byBattle.get(mine[VOTES_PER_CLIENT].conversation_a)).toEqual([WINNERS[won]]);
    });
    const total = CLIENTS * (VOTES_PER_CLIENT + 2);
    process.stdout.write(`arena on PostgreSQL: ${total} vote requests from ${CLIENTS} clients through 2 gateways in ${elapsedMs.toFixed(0)} ms (${(total / (elapsedMs / 1000)).toFixed(0)} req/s)\n`);
  }, 300_000);

  it('loses only unconfirmed votes when a gateway is killed mid-vote', async () => {
    const doomed = await spawnGateway(stack.controller.address, db);
    const client = new ArenaClient(doomed.url);
    await client.call('/arena/models', 'GET');
    const mine = await battlesOf(client, 200, 'kill');
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const outcomes = new Map<string, 'confirmed' | 'failed' | 'refused'>();
    let confirmedCount = 0;
    await pool(mine, 16, async (battle) => {
      try {
        const res = await post(agent, `${doomed.url}/arena/battles/${battle.id}/votes`, { winner: 'model_a' }, client.cookie!);
        outcomes.set(battle.id, res.status === 201 ? 'confirmed' : 'refused');
        if (res.status === 201 && ++confirmedCount === 60) doomed.child.kill('SIGKILL');
      } catch {
        outcomes.set(battle.id, 'failed');
      }
    });
    agent.destroy();
    const confirmed = mine.filter((b) => outcomes.get(b.id) === 'confirmed');
    const failed = mine.filter((b) => outcomes.get(b.id) === 'failed');
    expect(confirmed.length).toBeGreaterThanOrEqual(60);
    expect(failed.length).toBeGreaterThan(0);
    expect(mine.filter((b) => outcomes.get(b.id) === 'refused')).toEqual([]);

    const countVotes = async (): Promise<Map<string, number>> => {
      const votes = new Map<string, number>();
      for await (const r of store.exportBattleLog({ withoutConversations: true })) if (r.question_id) votes.set(r.question_id, (votes.get(r.question_id) ?? 0) + 1);
      return votes;
    };
    const afterKill = await countVotes();
    for (const b of confirmed) expect([b.id, afterKill.get(b.conversation_a)]).toEqual([b.id, 1]);
    for (const b of failed) expect(afterKill.get(b.conversation_a) ?? 0).toBeLessThanOrEqual(1);
    // The client casts its unconfirmed votes again on the surviving gateway: stored exactly once in the end.
    const retry = new ArenaClient(stack.url);
    retry.cookie = client.cookie;
    const statuses = await Promise.all(failed.map(async (b) => (await retry.call(`/arena/battles/${b.id}/votes`, 'POST', { winner: 'model_a' })).status));
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const final = await countVotes();
    for (const b of mine) expect([b.id, final.get(b.conversation_a)]).toEqual([b.id, 1]);
    process.stdout.write(`gateway killed after ${confirmed.length} confirmed votes; ${failed.length} unconfirmed (${statuses.filter((s) => s === 409).length} of them had been committed before the kill)\n`);
  }, 300_000);
});
