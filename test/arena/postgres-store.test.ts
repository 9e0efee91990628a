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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { ELO_JOB_SCHEMA } from '../../src/jobs/arena/elo-config';
import { runEloJob } from '../../src/jobs/arena/elo-job';
import { runCli } from '../support/cli';
import { startPostgres, type PostgresServer } from '../support/postgres';
import { storeContract } from './store-contract';
import { answer, answeredBattle, collect, rejection } from './support/transcript';

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

describe('fleetchat arena migrate and jobs elo --db postgres://', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'arena-migrate-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies a SQLite arena with its judge secret in one transaction, again without duplicates, and rates it the same', async () => {
    const file = join(dir, 'arena.db');
    const sqlite = await SqliteArenaStore.open({ path: file });
    for (let i = 0; i < 30; i++) {
      const battle = await answeredBattle(sqlite, i % 3 === 0 ? 'left' : 'right', i % 3 === 0 ? 'right' : 'left', i % 5 !== 0, `q${i}`);
      await sqlite.recordBattleVote({ battleId: battle.id, winner: i % 4 === 0 ? 'tie' : 'model_a', judgeId: `arena_user_${i % 3}`, tstampS: 100 + i });
    }
    const open = await answeredBattle(sqlite, 'left', 'right', true, 'not voted yet');
    const chat = await sqlite.createConversation({ model: 'left', judgeId: 'arena_user_0', sessionId: 's' });
    await sqlite.addUserTurn({ conversationId: chat.id, content: 'hi' });
    await sqlite.appendAnswer({ conversationId: chat.id, answer: answer('hello') });
    await sqlite.recordFeedback({ conversationId: chat.id, kind: 'upvote', judgeId: 'arena_user_0' });
    const before = await sqlite.counts();
    await sqlite.close();
    writeFileSync(`${file}.judge-secret`, 'the-old-judge-secret-0123456789\n');

    const url = await freshUrl();
    const first = await runCli(['arena', 'migrate', '--from', file, '--to', url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/battle_votes: 30 copied of 30/);
    expect(first.stdout).toMatch(/judge secret: copied/);
    const again = await runCli(['arena', 'migrate', '--from', file, '--to', url]);
    expect(again.stdout).toMatch(/battle_votes: 0 copied of 30 \(30 already there\)/);

    const pgStore = await PostgresArenaStore.open({ url });
    try {
      expect(await pgStore.counts()).toEqual(before);
      expect(await pgStore.sharedSecret('judge-pseudonyms')).toBe('the-old-judge-secret-0123456789');
      const copied = await pgStore.getBattle(open.id);
      expect(copied).toEqual(open);
      // The copied arena goes on: the open battle takes its vote, new ids follow the copied ones.
      const vote = await pgStore.recordBattleVote({ battleId: open.id, winner: 'model_b', judgeId: 'arena_user_9' });
      expect(vote.id).toBe(31);
    } finally {
      await pgStore.close();
    }
    const fromSqlite = await runEloJob(parseConfig(ELO_JOB_SCHEMA, ['--db', file, '--out', join(dir, 'sqlite-out'), '--bootstrap', '0']), silentLogger());
    const fromPg = await runEloJob(parseConfig(ELO_JOB_SCHEMA, ['--db', url, '--out', join(dir, 'pg-out'), '--bootstrap', '0']), silentLogger());
    expect(fromPg.report.records_read).toBe(fromSqlite.report.records_read + 1);
    expect(fromPg.board.models.map((m) => m.model).sort()).toEqual(['left', 'right']);
  }, 60_000);
});
