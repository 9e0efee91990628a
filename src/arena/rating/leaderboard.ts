/**
 * The leaderboard of a battle table, as FastChat's `report_elo_analysis_results` with the Bradley-Terry system:
 * rating = BT MLE on the full data (Elo scale, anchored), 95 % interval from the bootstrap, online Elo alongside,
 * rank from non-overlapping intervals. Pure: no I/O.
 */
import { FleetError } from '../../common/errors';
import { battleCounts, type BattleTable } from './battle-table';
import { bootstrapRatings, confidenceIntervals, ranksFromIntervals, type Interval } from './bootstrap';
import { fitBradleyTerry } from './bradley-terry';
import { alignToReference, DEFAULT_ANCHOR, toEloScale, type Anchor } from './elo-scale';
import { FASTCHAT_ELO, onlineElo, type EloParams } from './online-elo';
import { buildPairIndex, pairTotals, presentModels, type PairIndex, type PairTotals } from './pairs';
import { computeStyleControl, type StyleControl } from './style/style-leaderboard';
import { ratingWarnings } from './warnings';

export interface LeaderboardOptions {
  /** Default: FastChat's (`mixtral-8x7b-instruct-v0.1` = 1114), falling back to mean 1000 when absent. */
  anchor?: Anchor;
  /** When true, an anchor model missing from the data is an error rather than a fallback to the mean. */
  anchorRequired?: boolean;
  bootstrapRounds?: number;
  seed?: number;
  elo?: EloParams;
  /** Also fit Bradley-Terry with style covariates (needs `table.style`): `style_*` columns and `style_control`. */
  styleControl?: boolean;
}

export interface LeaderboardRow {
  model: string;
  rating: number;
  ci_low: number;
  ci_high: number;
  elo_online: number;
  battles: number;
  rank: number;
  /** Style control: the rating with answer length and markdown held equal, its interval and rank. */
  style_rating?: number;
  style_ci_low?: number;
  style_ci_high?: number;
  style_rank?: number;
}

export interface Leaderboard {
  models: LeaderboardRow[];
  battles: number;
  anchor: { model: string; rating: number; applied: boolean };
  bootstrap_rounds: number;
  seed: number;
  last_tstamp: number | null;
  warnings: string[];
  /** With `styleControl`: how many battles the style fit used, and the style coefficients. */
  style_control?: Omit<StyleControl, 'models'>;
}

interface Fitter {
  index: PairIndex;
  anchorIndex: number;
  rate(totals: PairTotals, present: Uint8Array, initial?: Float64Array): { ratings: Float64Array; converged: boolean };
}

function makeFitter(table: BattleTable, anchor: Anchor, elo: EloParams): Fitter {
  const index = buildPairIndex(table);
  const anchorIndex = table.models.indexOf(anchor.model);
  let warm: Float64Array | undefined;
  return {
    index,
    anchorIndex,
    rate(totals, present) {
      const fit = fitBradleyTerry(index, totals, { initial: warm });
      warm ??= fit.theta;
      return { ratings: toEloScale({ theta: fit.theta, present, anchorIndex, anchorRating: anchor.rating, params: elo }), converged: fit.converged };
    },
  };
}

export function computeLeaderboard(table: BattleTable, options: LeaderboardOptions = {}): Leaderboard {
  const anchor = options.anchor ?? DEFAULT_ANCHOR;
  const elo = options.elo ?? FASTCHAT_ELO;
  const rounds = options.bootstrapRounds ?? 100;
  const seed = options.seed ?? 42;
  if (options.anchorRequired && !table.models.includes(anchor.model)) {
    throw new FleetError('invalid_request', `anchor model ${anchor.model} has no battles in the data`, { param: 'anchor' });
  }
  const fitter = makeFitter(table, anchor, elo);
  const totals = pairTotals(fitter.index);
  const present = presentModels(fitter.index, totals);
  const full = fitter.rate(totals, present);
  const anchorApplied = fitter.anchorIndex >= 0 && present[fitter.anchorIndex] === 1;
  let unconverged = full.converged ? 0 : 1;
  const samples = bootstrapRatings({
    index: fitter.index,
    rounds,
    seed,
    rate: (sample, samplePresent) => {
      const fit = fitter.rate(sample, samplePresent);
      if (!fit.converged) unconverged++;
      const anchored = anchorApplied && samplePresent[fitter.anchorIndex] === 1;
      return anchored ? fit.ratings : alignToReference(fit.ratings, full.ratings);
    },
  });
  const intervals: Interval[] = rounds > 0
    ? confidenceIntervals(samples, table.models.length)
    : Array.from(full.ratings, (r) => ({ low: r, high: r }));
  const rows = buildRows(table, full.ratings, intervals, onlineElo(table, elo), present);
  const warnings = ratingWarnings(table, fitter.index, totals);
  if (unconverged > 0) warnings.push(`the Bradley-Terry fit did not converge in ${unconverged} of ${rounds + 1} fits`);
  let styleSummary: Leaderboard['style_control'];
  if (options.styleControl) {
    const style = computeStyleControl(table, { anchor, elo, bootstrapRounds: rounds, seed });
    const byModel = new Map(style.models.map((r) => [r.model, r]));
    for (const row of rows) {
      const s = byModel.get(row.model);
      if (s) Object.assign(row, { style_rating: s.rating, style_ci_low: s.ci_low, style_ci_high: s.ci_high, style_rank: s.rank });
    }
    styleSummary = { battles: style.battles, coefficients: style.coefficients, converged: style.converged };
    if (style.battles < table.length) warnings.push(`style control used ${style.battles} of ${table.length} battles (the others carry no answers to measure)`);
  }
  return {
    models: rows,
    battles: table.length,
    anchor: { ...anchor, applied: anchorApplied },
    bootstrap_rounds: rounds,
    seed,
    last_tstamp: table.length > 0 ? table.tstampS[table.length - 1] : null,
    warnings,
    ...(styleSummary ? { style_control: styleSummary } : {}),
  };
}

function buildRows(table: BattleTable, ratings: Float64Array, intervals: Interval[], online: Float64Array, present: Uint8Array): LeaderboardRow[] {
  const counts = battleCounts(table);
  const ranked = ranksFromIntervals(intervals.filter((_, i) => present[i] === 1));
  const models = table.models.map((model, i) => ({ model, i })).filter(({ i }) => present[i] === 1);
  const rows = models.map(({ model, i }, k) => ({
    model,
    rating: ratings[i],
    ci_low: intervals[i].low,
    ci_high: intervals[i].high,
    elo_online: online[i],
    battles: counts[i],
    rank: ranked[k],
  }));
  return rows.sort((x, y) => y.rating - x.rating || (x.model < y.model ? -1 : x.model > y.model ? 1 : 0));
}
