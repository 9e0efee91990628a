/**
 * The leaderboard page's data: `storeLeaderboard` of the arena store, recomputed only when votes were added.
 * Rating a large store blocks the event loop for a while (~6.5 s for 1 M battles), so a recomputation waits until
 * `busyFactor` times the last computation's duration has passed; until then the previous board is served with
 * `stale: true`. Concurrent requests share one computation.
 */
import { storeLeaderboard } from '../../arena/store-leaderboard';
import type { Leaderboard } from '../../arena/rating/leaderboard';
import { ratingsChartSvg } from '../../arena/plot/ratings-chart';
import { styleRows } from '../../arena/plot/leaderboard-plots';
import type { ArenaStore } from '../../arena/store';

export interface LiveBoard {
  board: Leaderboard;
  /** Votes in the store (named battles included) when the board was computed. */
  votes: number;
  computedAtMs: number;
  tookMs: number;
  stale: boolean;
}

export interface LiveLeaderboardOptions {
  busyFactor?: number;
  nowMs?: () => number;
}

export class LiveLeaderboard {
  private readonly boards = new Map<string, LiveBoard>();
  private readonly pending = new Map<string, Promise<LiveBoard>>();
  private readonly svgs = new WeakMap<Leaderboard, string>();
  private readonly busyFactor: number;
  private readonly nowMs: () => number;

  constructor(private readonly store: ArenaStore, options: LiveLeaderboardOptions = {}) {
    this.busyFactor = options.busyFactor ?? 20;
    this.nowMs = options.nowMs ?? Date.now;
  }

  async get(includeNamed: boolean, styleControl = false): Promise<LiveBoard> {
    const key = `${includeNamed}/${styleControl}`;
    const votes = (await this.store.counts()).battleVotes;
    const last = this.boards.get(key);
    if (last && last.votes === votes) return { ...last, stale: false };
    if (last && this.nowMs() - last.computedAtMs < last.tookMs * this.busyFactor) return { ...last, stale: true };
    let running = this.pending.get(key);
    if (!running) {
      running = this.compute(includeNamed, styleControl, votes).finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    return running;
  }

  /** The ratings chart (SVG) of a board, rendered once per board. */
  svg(live: LiveBoard): string {
    let svg = this.svgs.get(live.board);
    if (svg === undefined) {
      svg = live.board.style_control
        ? ratingsChartSvg(styleRows(live.board), { title: 'Style-controlled rating (95% CI)' })
        : ratingsChartSvg(live.board.models, { title: 'Rating (95% CI)' });
      this.svgs.set(live.board, svg);
    }
    return svg;
  }

  private async compute(includeNamed: boolean, styleControl: boolean, votes: number): Promise<LiveBoard> {
    const started = this.nowMs();
    const { board } = await storeLeaderboard(this.store, { includeNamed, styleControl });
    const computedAtMs = this.nowMs();
    const live: LiveBoard = { board, votes, computedAtMs, tookMs: computedAtMs - started, stale: false };
    this.boards.set(`${includeNamed}/${styleControl}`, live);
    return live;
  }
}
