import { FleetError } from '../../src/common/errors';
import { battleTable, type TableBattle } from '../../src/arena/rating/battle-table';
import { quantile, ranksFromIntervals } from '../../src/arena/rating/bootstrap';
import { computeLeaderboard, type Leaderboard } from '../../src/arena/rating/leaderboard';
import { onlineElo } from '../../src/arena/rating/online-elo';
import type { Winner } from '../../src/arena/battle-log';
import { meanCentred, standardErrors, syntheticBattles } from './synthetic';

function repeat(modelA: string, modelB: string, winner: Winner, times: number): TableBattle[] {
  return Array.from({ length: times }, () => ({ modelA, modelB, winner, tstampS: 0 }));
}

function ratingsOf(board: Leaderboard): Record<string, number> {
  return Object.fromEntries(board.models.map((row) => [row.model, row.rating]));
}

/** Deterministic shuffle (a fixed permutation) so the test does not depend on the code under test. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const NO_BOOTSTRAP = { bootstrapRounds: 0 };

describe('Bradley-Terry ratings', () => {
  it('match the closed form for two models: difference = 400·log10(p / (1 − p)), mean 1000', () => {
    const battles = [...repeat('alpha', 'beta', 'model_a', 70), ...repeat('alpha', 'beta', 'model_b', 30)];
    const r = ratingsOf(computeLeaderboard(battleTable(battles), NO_BOOTSTRAP));
    const diff = 400 * Math.log10(0.7 / 0.3);
    expect(r.alpha - r.beta).toBeCloseTo(diff, 3);
    expect((r.alpha + r.beta) / 2).toBeCloseTo(1000, 6);
  });

  it('count a tie as half a win', () => {
    const battles = [
      ...repeat('alpha', 'beta', 'model_a', 50),
      ...repeat('alpha', 'beta', 'model_b', 20),
      ...repeat('alpha', 'beta', 'tie', 20),
      ...repeat('beta', 'alpha', 'tie (bothbad)', 10),
    ];
    const p = (50 + 15) / 100;
    const r = ratingsOf(computeLeaderboard(battleTable(battles), NO_BOOTSTRAP));
    expect(r.alpha - r.beta).toBeCloseTo(400 * Math.log10(p / (1 - p)), 3);
  });

  it('recover exact log-odds when the data are consistent with three ratings', () => {
    // odds A:B = 2, B:C = 2, A:C = 4 — a saturated fit, so the MLE reproduces them exactly.
    const battles = [
      ...repeat('a', 'b', 'model_a', 200), ...repeat('a', 'b', 'model_b', 100),
      ...repeat('b', 'c', 'model_a', 200), ...repeat('b', 'c', 'model_b', 100),
      ...repeat('c', 'a', 'model_b', 400), ...repeat('c', 'a', 'model_a', 100),
    ];
    const r = ratingsOf(computeLeaderboard(battleTable(battles), NO_BOOTSTRAP));
    expect(r.a - r.b).toBeCloseTo(400 * Math.log10(2), 3);
    expect(r.b - r.c).toBeCloseTo(400 * Math.log10(2), 3);
  });

  it('are symmetric: swapping the sides of every battle gives the same ratings', () => {
    const battles = syntheticBattles({ x: 1100, y: 1000, z: 900, w: 1050 }, 3000, 7);
    const swapped = battles.map((b): TableBattle => ({
      modelA: b.modelB, modelB: b.modelA, tstampS: b.tstampS, winner: b.winner === 'model_a' ? 'model_b' : b.winner === 'model_b' ? 'model_a' : b.winner,
    }));
    const r1 = ratingsOf(computeLeaderboard(battleTable(battles), NO_BOOTSTRAP));
    const r2 = ratingsOf(computeLeaderboard(battleTable(swapped), NO_BOOTSTRAP));
    for (const model of Object.keys(r1)) expect(r2[model]).toBeCloseTo(r1[model], 6);
  });

  it('do not depend on the order of battles (online Elo does)', () => {
    const battles = syntheticBattles({ x: 1100, y: 1000, z: 900 }, 2000, 11);
    const reordered = shuffled(battles).map((b, k) => ({ ...b, tstampS: k }));
    const first = computeLeaderboard(battleTable(battles), NO_BOOTSTRAP);
    const second = computeLeaderboard(battleTable(reordered), NO_BOOTSTRAP);
    const r1 = ratingsOf(first);
    const r2 = ratingsOf(second);
    for (const model of Object.keys(r1)) expect(r2[model]).toBeCloseTo(r1[model], 6);
    const online = (board: Leaderboard): number[] => board.models.map((row) => row.elo_online);
    expect(online(second)).not.toEqual(online(first));
  });

  it('recover the ratings a synthetic battle set was drawn from, within its sampling error', () => {
    const truth = { top: 1250, strong: 1120, mid: 1000, weak: 930, bottom: 780 };
    const battles = syntheticBattles(truth, 20_000, 2024);
    const r = ratingsOf(computeLeaderboard(battleTable(battles), NO_BOOTSTRAP));
    const centred = meanCentred(truth);
    const se = standardErrors(truth, battles);
    for (const model of Object.keys(truth)) {
      expect(Math.abs(r[model] - centred[model])).toBeLessThan(4 * se[model]);
    }
  });

  it('flag a model that won every battle instead of pretending its rating is known', () => {
    const battles = [...repeat('champ', 'other', 'model_a', 10), ...repeat('other', 'third', 'model_a', 5), ...repeat('other', 'third', 'model_b', 5)];
    const board = computeLeaderboard(battleTable(battles), NO_BOOTSTRAP);
    expect(board.warnings.join('\n')).toMatch(/champ won every battle/);
    expect(Number.isFinite(ratingsOf(board).champ)).toBe(true);
  });
});

describe('bootstrap intervals and ranks', () => {
  const truth = { top: 1200, mid: 1000, low: 950, bottom: 800, floor: 760 };
  const battles = syntheticBattles(truth, 6000, 99);
  const board = computeLeaderboard(battleTable(battles), { bootstrapRounds: 100, seed: 5 });

  it('contain the true ratings (at least 4 of 5 models at the 95 % level) and have the width of the sampling error', () => {
    const centred = meanCentred(truth);
    const se = standardErrors(truth, battles);
    const covered = board.models.filter((row) => row.ci_low <= centred[row.model] && centred[row.model] <= row.ci_high);
    expect(covered.length).toBeGreaterThanOrEqual(4);
    for (const row of board.models) {
      const width = row.ci_high - row.ci_low;
      expect(width).toBeGreaterThan(0.65 * 2 * 1.96 * se[row.model]);
      expect(width).toBeLessThan(1.35 * 2 * 1.96 * se[row.model]);
      expect(row.ci_low).toBeLessThanOrEqual(row.rating);
      expect(row.ci_high).toBeGreaterThanOrEqual(row.rating);
    }
  });

  it('are reproducible with the same seed and change with another', () => {
    const again = computeLeaderboard(battleTable(battles), { bootstrapRounds: 100, seed: 5 });
    const other = computeLeaderboard(battleTable(battles), { bootstrapRounds: 100, seed: 6 });
    expect(again.models).toEqual(board.models);
    expect(other.models.map((r) => r.ci_low)).not.toEqual(board.models.map((r) => r.ci_low));
  });

  it('rank like FastChat: 1 + number of models whose lower bound is above my upper bound', () => {
    expect(ranksFromIntervals([
      { low: 1100, high: 1200 }, { low: 1050, high: 1150 }, { low: 900, high: 1060 }, { low: 800, high: 1000 },
    ])).toEqual([1, 1, 2, 3]);
    // low and floor overlap only with each other; top is alone.
    const rank = Object.fromEntries(board.models.map((r) => [r.model, r.rank]));
    expect(rank.top).toBe(1);
    expect(rank.mid).toBe(2);
  });

  it('use linear interpolation between order statistics, as pandas does', () => {
    expect(quantile([4, 1, 3, 2], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantile([4, 1, 3, 2], 0.975)).toBeCloseTo(3.925, 12);
    expect(quantile([Number.NaN, 5], 0.5)).toBe(5);
  });
});

describe('anchoring', () => {
  const battles = [
    ...repeat('mixtral-8x7b-instruct-v0.1', 'small', 'model_a', 60), ...repeat('mixtral-8x7b-instruct-v0.1', 'small', 'model_b', 40),
    ...repeat('big', 'mixtral-8x7b-instruct-v0.1', 'model_a', 55), ...repeat('big', 'mixtral-8x7b-instruct-v0.1', 'model_b', 45),
  ];

  it('puts mixtral-8x7b-instruct-v0.1 at 1114 when present, in every bootstrap round', () => {
    const board = computeLeaderboard(battleTable(battles), { bootstrapRounds: 20 });
    const mixtral = board.models.find((r) => r.model === 'mixtral-8x7b-instruct-v0.1');
    expect(mixtral?.rating).toBeCloseTo(1114, 9);
    expect(mixtral?.ci_low).toBeCloseTo(1114, 9);
    expect(mixtral?.ci_high).toBeCloseTo(1114, 9);
    expect(board.anchor).toEqual({ model: 'mixtral-8x7b-instruct-v0.1', rating: 1114, applied: true });
  });

  it('keeps rating differences whatever the anchor', () => {
    const byDefault = ratingsOf(computeLeaderboard(battleTable(battles), NO_BOOTSTRAP));
    const custom = ratingsOf(computeLeaderboard(battleTable(battles), { ...NO_BOOTSTRAP, anchor: { model: 'small', rating: 1500 }, anchorRequired: true }));
    expect(custom.small).toBeCloseTo(1500, 9);
    expect(custom.big - custom.small).toBeCloseTo(byDefault.big - byDefault.small, 6);
  });

  it('falls back to mean 1000 without the default anchor model, and refuses a missing explicit anchor', () => {
    const plain = [...repeat('p', 'q', 'model_a', 3), ...repeat('p', 'q', 'model_b', 1)];
    const board = computeLeaderboard(battleTable(plain), NO_BOOTSTRAP);
    expect(board.models.reduce((s, r) => s + r.rating, 0) / board.models.length).toBeCloseTo(1000, 9);
    expect(board.anchor.applied).toBe(false);
    expect(() => computeLeaderboard(battleTable(plain), { anchor: { model: 'absent', rating: 1200 }, anchorRequired: true })).toThrow(FleetError);
  });
});

describe('online Elo (K=4, scale 400, base 10, init 1000)', () => {
  it('matches a hand computation over three battles in time order', () => {
    const table = battleTable([
      { modelA: 'c', modelB: 'a', winner: 'tie', tstampS: 30 },
      { modelA: 'a', modelB: 'b', winner: 'model_a', tstampS: 10 },
      { modelA: 'b', modelB: 'c', winner: 'model_b', tstampS: 20 },
    ]);
    // 1) a beats b at 1000/1000: expected 0.5 each -> a 1002, b 998.
    // 2) c beats b (1000 vs 998): E_b = 1/(1+10^(2/400)) = 0.497122..., b -= 4·E_b, c += 4·(1 − E_c).
    const eB = 1 / (1 + 10 ** (2 / 400));
    const b = 998 - 4 * eB;
    const c1 = 1000 + 4 * (1 - (1 - eB));
    // 3) c ties a (c1 vs 1002).
    const eC = 1 / (1 + 10 ** ((1002 - c1) / 400));
    const c = c1 + 4 * (0.5 - eC);
    const a = 1002 + 4 * (0.5 - (1 - eC));
    const rating = onlineElo(table);
    const byName = Object.fromEntries(table.models.map((m, i) => [m, rating[i]]));
    expect(byName.a).toBeCloseTo(a, 10);
    expect(byName.b).toBeCloseTo(b, 10);
    expect(byName.c).toBeCloseTo(c, 10);
    // The same three updates worked through with a calculator: a ≈ 1001.99993, b ≈ 996.01151, c ≈ 1001.98855.
    expect(byName.a).toBeCloseTo(1001.99993, 4);
    expect(byName.b).toBeCloseTo(996.01151, 4);
    expect(byName.c).toBeCloseTo(1001.98855, 4);
  });
});
