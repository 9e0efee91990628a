/**
 * Bootstrap confidence intervals (FastChat's `get_bootstrap_result_elo_mle_with_tie`): each round resamples the
 * battles with replacement (same count), refits Bradley-Terry and rescales; the interval is the 2.5 % and 97.5 %
 * quantiles over rounds (linear interpolation, as pandas). Seeded with xoroshiro128+ so a run can be repeated.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { addBattle, emptyTotals, presentModels, type PairIndex, type PairTotals } from './pairs';

export interface BootstrapInput {
  index: PairIndex;
  rounds: number;
  seed: number;
  /** Fits one resample and returns Elo-scale ratings (NaN for models absent from it). */
  rate(totals: PairTotals, present: Uint8Array): Float64Array;
}

/** Ratings of every round: rounds × models. */
export function bootstrapRatings(input: BootstrapInput): Float64Array[] {
  const rng = xoroshiro128plus(input.seed);
  const battles = input.index.battlePair.length;
  const rounds: Float64Array[] = [];
  for (let round = 0; round < input.rounds; round++) {
    const totals = emptyTotals(input.index);
    for (let draw = 0; draw < battles; draw++) addBattle(input.index, totals, uniformInt(rng, 0, battles - 1));
    rounds.push(input.rate(totals, presentModels(input.index, totals)));
  }
  return rounds;
}

/** Quantile q of the non-NaN values (linear interpolation between order statistics); NaN when there are none. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Array.from(values).filter((v) => !Number.isNaN(v)).sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

export interface Interval {
  low: number;
  high: number;
}

/** The central `level` interval of each model over the rounds. */
export function confidenceIntervals(rounds: Float64Array[], modelCount: number, level = 0.95): Interval[] {
  const tail = (1 - level) / 2;
  return Array.from({ length: modelCount }, (_, model) => {
    const values = rounds.map((r) => r[model]);
    return { low: quantile(values, tail), high: quantile(values, 1 - tail) };
  });
}

/** FastChat's rank: 1 + the number of models whose lower bound is above this model's upper bound. */
export function ranksFromIntervals(intervals: Interval[]): number[] {
  return intervals.map((mine) => 1 + intervals.filter((other) => other.low > mine.high).length);
}
