/**
 * PostgresArenaStore on a real PostgreSQL server (started by the harness in a temp directory): the whole store
 * contract, the same migrations as SQLite applied once by replicas opening together, a vote that survives its
 * writer being killed right after the confirmation, and no lost or duplicated vote when a second process writes at
 * the same time.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PG_MIGRATIONS } from '../../src/arena/postgres/migrations';
import { PostgresArenaStore } from '../../src/arena/postgres/pg-store';
import { MIGRATIONS } from '../../src/arena/sqlite/migrations';
import { startPostgres, type PostgresServer } from '../support/postgres';
import { storeContract } from './store-contract';
import { answeredBattle, collect, rejection } from './support/transcript';

const run = promisify(execFile);
const CHILD = join(__dirname, 'child', 'vote-writer.ts');

let server: PostgresServer;
let databases = 0;
let lastUrl = '';

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => server?.stop());

async function freshUrl(): Promise<string> {
  lastUrl = await server.createDatabase(`arena_${++databases}`);
  return lastUrl;
}

storeContract('PostgresArenaStore', () => ({
  open: async () => PostgresArenaStore.open({ url: await freshUrl() }),
  reopen: () => PostgresArenaStore.open({ url: lastUrl }),
}));

describe('PostgresArenaStore schema and durability', () => {
  it('has the same migrations as SQLite, applied once when several replicas open together', async () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.description])).toEqual(MIGRATIONS.map((m) => [m.version, m.description]));
    const url = await freshUrl();
    const stores = await Promise.all([0, 1, 2].map(() => PostgresArenaStore.open({ url })));
    expect(stores.map((s) => s.migration.applied.length).sort()).toEqual([0, 0, PG_MIGRATIONS.length]);
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const versions = (await client.query('SELECT version FROM schema_version ORDER BY version')).rows.map((r: { version: number }) => r.version);
    const sync = (await client.query('SHOW synchronous_commit')).rows[0] as { synchronous_commit: string };
    await client.end();
    expect(versions).toEqual(PG_MIGRATIONS.map((m) => m.version));
    expect(sync.synchronous_commit).toBe('on');
  }, 30_000);

  it('refuses a database written by a newer schema, and an unreachable server with unavailable', async () => {
    const url = await freshUrl();
    await (await PostgresArenaStore.open({ url })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO schema_version (version, description, applied_at_ms) VALUES (1000, 'from the future', 0)");
    await client.end();
    expect((await rejection(PostgresArenaStore.open({ url }))).message).toMatch(/schema version 1000 is newer/);
    const closed = await rejection(PostgresArenaStore.open({ url: 'postgres://nobody:secret-pw@127.0.0.1:1/none' }));
    expect(closed.kind).toBe('unavailable');
    expect(closed.message).not.toContain('secret-pw');
  }, 30_000);

  it('has a vote committed once recordBattleVote resolved, even if the process is killed right after', async () => {
    const url = await freshUrl();
    const child = await run(process.execPath, ['-r', '@swc-node/register', CHILD, url, 'crash', '1', 'crash'], { cwd: join(__dirname, '..', '..') })
      .then(() => { throw new Error('the child should have been killed'); }, (err: { signal?: string; stdout?: string }) => err);
    expect(child.signal).toBe('SIGKILL');
    expect(child.stdout).toMatch(/voted \d+/);
    const store = await PostgresArenaStore.open({ url });
    const records = await collect(store.exportBattleLog());
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ model_a: 'crash-a', model_b: 'crash-b', winner: 'model_a' });
    await store.close();
  }, 30_000);

  it('loses no vote when async callers and a second process write at once', async () => {
    const url = await freshUrl();
    const store = await PostgresArenaStore.open({ url });
    const child = run(process.execPath, ['-r', '@swc-node/register', CHILD, url, 'load', '300', 'child'], { cwd: join(__dirname, '..', '..') });
    const callers = 20;
    const perCaller = 15;
    const ids = await Promise.all(Array.from({ length: callers }, async (_, c) => {
      const mine: number[] = [];
      for (let v = 0; v < perCaller; v++) {
        const battle = await answeredBattle(store, `p${c}`, `q${v}`);
        mine.push((await store.recordBattleVote({ battleId: battle.id, winner: 'model_a', judgeId: `arena_user_${c}` })).id);
      }
      return mine;
    }));
    expect((await child).stdout).toMatch(/done 300/);
    expect(new Set(ids.flat()).size).toBe(callers * perCaller);
    expect(await store.counts()).toMatchObject({ battles: callers * perCaller + 300, battleVotes: callers * perCaller + 300 });
    const exported = await collect(store.exportBattleLog());
    expect(exported.filter((r) => r.model_a.startsWith('child-'))).toHaveLength(300);
    await store.close();
  }, 60_000);
});
