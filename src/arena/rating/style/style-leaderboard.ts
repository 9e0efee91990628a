/**
 * Style-controlled ratings beside the raw ones (lmarena's "style control"): Bradley–Terry with style covariates on
 * the battles whose answers could be measured, on the same Elo scale and anchor as the raw leaderboard, with
 * bootstrap intervals (battles resampled with replacement, seeded) and FastChat's interval rank. Pure.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { BattleTable } from '../battle-table';
import { confidenceIntervals, ranksFromIntervals } from '../bootstrap';
import { alignToReference, DEFAULT_ANCHOR, toEloScale, type Anchor } from '../elo-scale';
import { FASTCHAT_ELO, type EloParams } from '../online-elo';
import { fitStyleBradleyTerry, type StyleBattles } from './style-bt';
import { normalisedStyle, STYLE_FEATURES, STYLE_WIDTH } from './style-features';

export interface StyleRow {
  model: string;
  rating: number;
  ci_low: number;
  ci_high: number;
  rank: number;
}

export interface StyleControl {
  /** Battles whose answers were measured (the others are left out of the style fit). */
  battles: number;
  /** β per normalised feature (natural log-odds per standard deviation of (a − b) / (a + b)). */
  coefficients: Record<(typeof STYLE_FEATURES)[number], number>;
  models: StyleRow[];
  converged: boolean;
}

export interface StyleOptions {
  anchor?: Anchor;
  elo?: EloParams;
  bootstrapRounds?: number;
  seed?: number;
}

/** The battles of a table with known style, as the fit wants them. */
export function styleBattles(table: BattleTable): StyleBattles {
  const style = table.style ?? new Float64Array(0);
  const keep: number[] = [];
  for (let k = 0; k < table.length; k++) if (style.length > 0 && !Number.isNaN(style[k * STYLE_WIDTH])) keep.push(k);
  const raw = new Float64Array(keep.length * STYLE_WIDTH);
  keep.forEach((k, i) => raw.set(style.subarray(k * STYLE_WIDTH, (k + 1) * STYLE_WIDTH), i * STYLE_WIDTH));
  return {
    modelCount: table.models.length,
    length: keep.length,
    a: Int32Array.from(keep, (k) => table.a[k]),
    b: Int32Array.from(keep, (k) => table.b[k]),
    score: Float64Array.from(keep, (k) => table.outcome[k] / 2),
    x: normalisedStyle(raw, keep.length),
  };
}

function presentIn(data: StyleBattles, weights?: Float64Array): Uint8Array {
  const present = new Uint8Array(data.modelCount);
  for (let k = 0; k < data.length; k++) {
    if (weights && weights[k] === 0) continue;
    present[data.a[k]] = 1;
    present[data.b[k]] = 1;
  }
  return present;
}

export function computeStyleControl(table: BattleTable, options: StyleOptions = {}): StyleControl {
  const anchor = options.anchor ?? DEFAULT_ANCHOR;
  const elo = options.elo ?? FASTCHAT_ELO;
  const rounds = options.bootstrapRounds ?? 100;
  const data = styleBattles(table);
  const anchorIndex = table.models.indexOf(anchor.model);
  const scale = (theta: Float64Array, present: Uint8Array): Float64Array => toEloScale({ theta, present, anchorIndex, anchorRating: anchor.rating, params: elo });
  const present = presentIn(data);
  const full = fitStyleBradleyTerry(data);
  const ratings = scale(full.theta, present);
  const samples: Float64Array[] = [];
  const rng = xoroshiro128plus(options.seed ?? 42);
  for (let round = 0; round < rounds && data.length > 0; round++) {
    const weights = new Float64Array(data.length);
    for (let draw = 0; draw < data.length; draw++) weights[uniformInt(rng, 0, data.length - 1)]++;
    const fit = fitStyleBradleyTerry(data, weights, Float64Array.from([...full.theta, ...full.beta]));
    const samplePresent = presentIn(data, weights);
    const sample = scale(fit.theta, samplePresent);
    samples.push(anchorIndex >= 0 && samplePresent[anchorIndex] === 1 && present[anchorIndex] === 1 ? sample : alignToReference(sample, ratings));
  }
  const intervals = samples.length > 0 ? confidenceIntervals(samples, table.models.length) : Array.from(ratings, (r) => ({ low: r, high: r }));
  const rated = table.models.map((model, i) => ({ model, i })).filter(({ i }) => present[i] === 1);
  const ranks = ranksFromIntervals(rated.map(({ i }) => intervals[i]));
  const models = rated
    .map(({ model, i }, k) => ({ model, rating: ratings[i], ci_low: intervals[i].low, ci_high: intervals[i].high, rank: ranks[k] }))
    .sort((x, y) => y.rating - x.rating || (x.model < y.model ? -1 : x.model > y.model ? 1 : 0));
  const coefficients = Object.fromEntries(STYLE_FEATURES.map((f, i) => [f, full.beta[i]])) as StyleControl['coefficients'];
  return { battles: data.length, coefficients, models, converged: full.converged };
}
