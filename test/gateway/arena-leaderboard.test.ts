/** The gateway's live leaderboard: recomputed when votes were added, but not more often than its cost allows. */
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import type { Winner } from '../../src/arena/store';
import { LiveLeaderboard } from '../../src/gateway/arena/live-leaderboard';
import { answerTurn } from '../arena/support/transcript';

async function vote(store: SqliteArenaStore, modelA: string, modelB: string, winner: Winner, anony = true): Promise<void> {
  const battle = await store.createBattle({ modelA, modelB, anony });
  await answerTurn(store, battle, 'q', ['r', 'r']);
  await store.recordBattleVote({ battleId: battle.id, winner, judgeId: 'judge' });
}

describe('LiveLeaderboard', () => {
  let store: SqliteArenaStore;
  let clockMs: number;
  // Every reading of the clock moves it 50 ms on, so a computation "takes" 50 ms.
  const nowMs = (): number => (clockMs += 50);

  beforeEach(async () => {
    store = await SqliteArenaStore.open({ path: ':memory:' });
    clockMs = 0;
  });
  afterEach(() => store.close());

  it('serves the same board while no vote arrives, and a new one after a vote once the busy window passed', async () => {
    const live = new LiveLeaderboard(store, { busyFactor: 20, nowMs });
    await vote(store, 'x', 'y', 'model_a');
    const first = await live.get(false);
    expect(first.board.battles).toBe(1);
    expect(first.stale).toBe(false);
    expect(first.tookMs).toBe(50);
    expect((await live.get(false)).board).toBe(first.board);

    await vote(store, 'x', 'y', 'model_b');
    const within = await live.get(false);
    expect(within.stale).toBe(true); // 50 ms after a 50 ms computation: inside 20 x 50 ms
    expect(within.board).toBe(first.board);

    clockMs += 1000;
    const fresh = await live.get(false);
    expect(fresh.stale).toBe(false);
    expect(fresh.board.battles).toBe(2);
    expect(fresh.votes).toBe(2);
  });

  it('rates named battles only when asked, shares one computation between concurrent requests, and renders the chart', async () => {
    const live = new LiveLeaderboard(store, { nowMs });
    await vote(store, 'x', 'y', 'tie');
    await vote(store, 'x', 'z', 'model_a', false);
    const [anony, again] = await Promise.all([live.get(false), live.get(false)]);
    expect(again.board).toBe(anony.board);
    expect(anony.board.models.map((m) => m.model).sort()).toEqual(['x', 'y']);
    const named = await live.get(true);
    expect(named.board.models.map((m) => m.model).sort()).toEqual(['x', 'y', 'z']);
    const svg = live.svg(named);
    expect(svg).toContain('<svg');
    expect(svg).toContain('>z<');
    expect(live.svg(named)).toBe(svg);
  });
});
