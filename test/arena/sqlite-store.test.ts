import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate } from '../../src/arena/sqlite/migrations';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import { storeContract } from './store-contract';
import { answeredBattle, collect, rejection } from './support/transcript';

const run = promisify(execFile);
const CHILD = join(__dirname, 'child', 'vote-writer.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arena-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

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

let counter = 0;
storeContract('SqliteArenaStore', () => ({
  open: () => SqliteArenaStore.open({ path: join(dir, `contract-${++counter}.db`) }),
  reopen: () => SqliteArenaStore.open({ path: join(dir, `contract-${counter}.db`) }),
}));

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
