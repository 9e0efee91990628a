import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { FleetError } from '../../src/common/errors';
import { MIGRATIONS, migrate } from '../../src/arena/sqlite/migrations';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import type { ArenaBattle, ArenaStore, BattleLogRecord } from '../../src/arena/store';
import { storeLeaderboard } from '../../src/arena/store-leaderboard';

const run = promisify(execFile);
const CHILD = join(__dirname, 'child', 'vote-writer.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arena-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function answeredBattle(store: ArenaStore, modelA = 'alpha', modelB = 'beta', anony = true): Promise<ArenaBattle> {
  const battle = await store.createBattle({ modelA, modelB, anony, judgeId: 'arena_user_j1' });
  const question = { role: 'user' as const, content: 'What is 2+2?' };
  await store.updateMessages(battle.conversationAId, [question, { role: 'assistant', content: '4' }]);
  await store.updateMessages(battle.conversationBId, [question, { role: 'assistant', content: 'four' }]);
  return battle;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<FleetError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('SqliteArenaStore schema', () => {
  it('migrates an empty database, records the version, and applies nothing on reopen', async () => {
    const path = join(dir, 'nested', 'arena.db');
    const store = await SqliteArenaStore.open({ path });
    expect(store.migration).toEqual({ from: 0, to: MIGRATIONS.length, applied: MIGRATIONS.map((m) => m.version) });
    expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 2 });
    await store.close();
    const again = await SqliteArenaStore.open({ path });
    expect(again.migration.applied).toEqual([]);
    await again.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    db.close();
  });

  it('rolls a failing migration back completely', () => {
    const db = new Database(join(dir, 'partial.db'));
    migrate(db);
    const broken = [...MIGRATIONS, { version: 99, description: 'half-broken', sql: 'CREATE TABLE extra (x INTEGER); CREATE TABLE oops (' }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'extra'").get()).toBeUndefined();
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_version').get()).toEqual({ v: MIGRATIONS.length });
    db.close();
  });

  it('refuses a database written by a newer schema', async () => {
    const path = join(dir, 'future.db');
    const db = new Database(path);
    migrate(db, [...MIGRATIONS, { version: 1000, description: 'from the future', sql: 'SELECT 1' }]);
    db.close();
    const err = await rejection(SqliteArenaStore.open({ path }));
    expect(err.message).toMatch(/schema version 1000 is newer/);
  });
});

describe('SqliteArenaStore battles and votes', () => {
  let store: SqliteArenaStore;
  beforeEach(async () => {
    store = await SqliteArenaStore.open({ path: join(dir, 'arena.db') });
  });
  afterEach(() => store.close());

  it('creates a battle with two conversations and records one vote per turn', async () => {
    const battle = await answeredBattle(store);
    expect(await store.getBattle(battle.id)).toEqual(battle);
    expect((await store.getConversation(battle.conversationAId))?.model).toBe('alpha');
    const vote = await store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'arena_user_j1', language: 'English' });
    expect(vote).toMatchObject({ battleId: battle.id, winner: 'model_a', turn: 1, language: 'English' });
    expect((await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'tie', judgeId: 'arena_user_j1' }))).kind).toBe('conflict');
    const a = await store.getConversation(battle.conversationAId);
    await store.updateMessages(battle.conversationAId, [...a!.messages, { role: 'user', content: 'And 3+3?' }, { role: 'assistant', content: '6' }]);
    const second = await store.recordBattleVote({ battleId: battle.id, winner: 'tie (bothbad)', judgeId: 'arena_user_j1' });
    expect(second.turn).toBe(2);
  });

  it('rejects bad votes with typed errors', async () => {
    const battle = await store.createBattle({ modelA: 'alpha', modelB: 'beta', anony: true });
    expect((await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'j' }))).kind).toBe('invalid_request');
    expect((await rejection(store.recordBattleVote({ battleId: 'nope', winner: 'model_a', judgeId: 'j' }))).kind).toBe('not_found');
    const bad = await rejection(store.recordBattleVote({ battleId: battle.id, winner: 'leftvote' as 'model_a', judgeId: 'j' }));
    expect(bad).toMatchObject({ kind: 'invalid_request', param: 'winner' });
    expect((await rejection(store.createBattle({ modelA: 'same', modelB: 'same', anony: true }))).kind).toBe('invalid_request');
    expect((await rejection(store.updateMessages('nope', []))).kind).toBe('not_found');
    expect((await rejection(store.updateMessages(battle.conversationAId, [{ role: 'robot', content: 1 }] as never))).param).toBe('messages[0]');
  });

  it('records feedback on single-model conversations', async () => {
    const conversation = await store.createConversation({ model: 'alpha', judgeId: 'arena_user_j2' });
    expect((await rejection(store.recordFeedback({ conversationId: conversation.id, kind: 'upvote', judgeId: 'j' }))).kind).toBe('invalid_request');
    await store.updateMessages(conversation.id, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }]);
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

  it('round-trips an exported log through import, keeps unknown fields, and skips duplicates', async () => {
    await Promise.all(Array.from({ length: 1200 }, async (_, i) => {
      const battle = await answeredBattle(store, `m${i % 7}`, `m${(i + 1) % 7}`, i % 3 !== 0);
      await store.recordBattleVote({ battleId: battle.id, winner: i % 4 === 0 ? 'tie' : 'model_a', judgeId: `arena_user_${i % 5}`, tstampS: 1000 + i });
    }));
    const exported = await collect(store.exportBattleLog());
    const extra: BattleLogRecord = { model_a: 'x', model_b: 'y', winner: 'model_b', anony: true, tstamp: 5, conv_metadata: { sum_assistant_a_tokens: 3 } };
    const other = await SqliteArenaStore.open({ path: join(dir, 'copy.db') });
    try {
      const report = await other.importBattleLog([...exported, extra, { model_a: 'x', winner: 'nobody' }, 'not an object']);
      expect(report).toMatchObject({ read: 1203, imported: 1201, duplicates: 0, rejected: 2 });
      expect(report.problems.map((p) => p.index)).toEqual([1201, 1202]);
      expect(report.problems[0].problem).toMatch(/model_b must be a non-empty string.*winner must be one of/);
      expect(await collect(other.exportBattleLog())).toEqual([extra, ...exported]);
      expect(await other.importBattleLog(exported)).toMatchObject({ imported: 0, duplicates: 1200 });
      expect(await store.importBattleLog(exported)).toMatchObject({ imported: 0, duplicates: 1200 });
    } finally {
      await other.close();
    }
  });

  it('settles writes issued together independently: one failing write does not undo the others', async () => {
    const battle = await answeredBattle(store);
    const results = await Promise.allSettled([
      store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: 'arena_user_j1' }),
      store.recordBattleVote({ battleId: battle.id, winner: 'model_b', judgeId: 'arena_user_j1' }),
      store.recordBattleVote({ battleId: 'missing', winner: 'model_b', judgeId: 'arena_user_j1' }),
      store.createConversation({ model: 'solo' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as FleetError).kind : 'ok'))).toEqual(['ok', 'conflict', 'not_found', 'ok']);
    expect(await store.counts()).toMatchObject({ battleVotes: 1, conversations: 3 });
    expect((await collect(store.exportBattleLog())).map((r) => r.winner)).toEqual(['model_a']);
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

  it('refuses calls after close', async () => {
    await store.close();
    expect((await rejection(store.counts())).kind).toBe('unavailable');
  });
});

/** Starts the second writer process; `ready` once its store is open, `done` with [count, startMs, endMs]. */
function startWriter(path: string, count: number): { ready: Promise<void>; done: Promise<string[]> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', CHILD, path, 'load', String(count), 'child'], { cwd: join(__dirname, '..', '..') });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    child.on('exit', () => reject(new Error(`writer exited before ready: ${errors}`)));
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('exit', (code) => {
      const match = /done (\d+) (\d+) (\d+)/.exec(output);
      if (code === 0 && match) resolve(match.slice(1));
      else reject(new Error(`writer failed (${code}): ${errors}`));
    });
  });
  return { ready, done };
}

describe('SqliteArenaStore durability and concurrency', () => {
  it('keeps every vote across close and reopen', async () => {
    const path = join(dir, 'arena.db');
    const store = await SqliteArenaStore.open({ path });
    const battle = await answeredBattle(store);
    await store.recordBattleVote({ battleId: battle.id, winner: 'model_b', judgeId: 'arena_user_j1' });
    await store.close();
    const reopened = await SqliteArenaStore.open({ path });
    expect((await collect(reopened.exportBattleLog())).map((r) => r.winner)).toEqual(['model_b']);
    await reopened.close();
  });

  it('has a vote on disk once recordBattleVote resolved, even if the process is killed right after', async () => {
    const path = join(dir, 'crash.db');
    const child = await run(process.execPath, ['-r', '@swc-node/register', CHILD, path, 'crash', '1', 'crash'], { cwd: join(__dirname, '..', '..') })
      .then(() => { throw new Error('the child should have been killed'); }, (err: { signal?: string; stdout?: string }) => err);
    expect(child.signal).toBe('SIGKILL');
    const id = Number(/voted (\d+)/.exec(child.stdout ?? '')?.[1]);
    const store = await SqliteArenaStore.open({ path });
    const records = await collect(store.exportBattleLog());
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ model_a: 'crash-a', model_b: 'crash-b', winner: 'model_a' });
    expect(id).toBe(1);
    await store.close();
  });

  it('loses no vote when many async callers and a second process write at once', async () => {
    const path = join(dir, 'load.db');
    const store = await SqliteArenaStore.open({ path, busyTimeoutMs: 10_000 });
    const otherProcess = startWriter(path, 1000);
    await otherProcess.ready;
    const callers = 50;
    const votesPerCaller = 40;
    const started = Date.now();
    const ids = await Promise.all(Array.from({ length: callers }, async (_, c) => {
      const mine: number[] = [];
      for (let v = 0; v < votesPerCaller; v++) {
        const battle = await answeredBattle(store, `p${c}`, `q${v}`);
        mine.push((await store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: `arena_user_${c}` })).id);
      }
      return mine;
    }));
    const elapsedMs = Date.now() - started;
    const endedMs = Date.now();
    const [count, childStartMs, childEndMs] = (await otherProcess.done).map(Number);
    expect(count).toBe(1000);
    expect(childStartMs < endedMs && started < childEndMs).toBe(true); // the two writers overlapped in time
    const all = ids.flat();
    expect(new Set(all).size).toBe(callers * votesPerCaller);
    expect(await store.counts()).toMatchObject({ battles: callers * votesPerCaller + 1000, battleVotes: callers * votesPerCaller + 1000 });
    const exported = await collect(store.exportBattleLog());
    expect(exported.filter((r) => r.model_a.startsWith('child-'))).toHaveLength(1000);
    expect(exported.filter((r) => r.model_a.startsWith('p'))).toHaveLength(callers * votesPerCaller);
    await store.close();
    process.stdout.write(`arena store load: ${callers * votesPerCaller} in-process battles+votes (4 writes each) in ${elapsedMs} ms alongside 1000 from a second process\n`);
  });
});
