/**
 * A second process for the store tests (run with `node -r @swc-node/register`): records battles with votes in the
 * given database (a SQLite file or a postgres:// URL). Modes: `crash` votes once, prints the vote id and kills itself with SIGKILL before closing;
 * `load` records COUNT votes from 10 concurrent async callers, then closes and prints `done N START_MS END_MS`
 * (after `ready` once the store is open).
 */
import { openArenaStore } from '../../../src/arena/open-store';
import { SqliteArenaStore } from '../../../src/arena/sqlite/sqlite-store';
import type { ArenaStore } from '../../../src/arena/store';
import { answerTurn } from '../support/transcript';

async function oneVote(store: ArenaStore, tag: string, n: number): Promise<number> {
  const battle = await store.createBattle({ modelA: `${tag}-a`, modelB: `${tag}-b`, anony: true, judgeId: `arena_user_${tag}` });
  await answerTurn(store, battle, `question ${n}`, ['answer a', 'answer b']);
  const vote = await store.recordBattleVote({ battleId: battle.id, winner: n % 2 === 0 ? 'model_a' : 'model_b', judgeId: `arena_user_${tag}` });
  return vote.id;
}

async function main(): Promise<void> {
  const [path, mode, countText, tag] = process.argv.slice(2);
  const store = path.startsWith('postgres') ? (await openArenaStore(path)).store : await SqliteArenaStore.open({ path, busyTimeoutMs: 10_000 });
  if (mode === 'crash') {
    const id = await oneVote(store, tag, 0);
    process.stdout.write(`voted ${id}\n`, () => process.kill(process.pid, 'SIGKILL'));
    return;
  }
  const count = Number(countText);
  process.stdout.write('ready\n');
  const startedMs = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await oneVote(store, tag, next++);
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  const endedMs = Date.now();
  await store.close();
  process.stdout.write(`done ${count} ${startedMs} ${endedMs}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
