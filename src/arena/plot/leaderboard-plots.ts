/** The three leaderboard plots as SVG documents: ratings with intervals, win-fraction and battle-count heat maps. */
import type { BattleTable } from '../rating/battle-table';
import type { Leaderboard } from '../rating/leaderboard';
import { pairwiseMatrices } from '../rating/pairwise';
import { divergingColor, heatmapSvg, sequentialColor } from './heatmap';
import { ratingsChartSvg } from './ratings-chart';

export interface LeaderboardPlots {
  ratings: string;
  winFraction: string;
  battleCounts: string;
  /** With style control: the style-controlled ratings with their intervals. */
  ratingsStyle?: string;
}

/** The rows on their style-controlled ratings, in that order. */
export function styleRows(board: Leaderboard): Leaderboard['models'] {
  return board.models
    .filter((r) => r.style_rating !== undefined)
    .map((r) => ({ ...r, rating: r.style_rating!, ci_low: r.style_ci_low!, ci_high: r.style_ci_high!, rank: r.style_rank! }))
    .sort((x, y) => y.rating - x.rating);
}

export function leaderboardPlots(table: BattleTable, board: Leaderboard, limit = 25): LeaderboardPlots {
  const models = board.models.slice(0, limit).map((row) => row.model);
  const matrices = pairwiseMatrices(table, models);
  const maxCount = Math.max(0, ...matrices.battles.flat());
  return {
    ratings: ratingsChartSvg(board.models, { limit }),
    ...(board.style_control ? { ratingsStyle: ratingsChartSvg(styleRows(board), { limit, title: 'Style-controlled rating (length and markdown held equal) with 95% confidence interval' }) } : {}),
    winFraction: heatmapSvg({
      title: 'Fraction of model A wins in A vs. B battles (without ties)',
      labels: models,
      values: matrices.winFraction,
      format: (v) => v.toFixed(2),
      color: divergingColor,
      describe: (a, b, v) => `Model A: ${a}, model B: ${b}, fraction of A wins: ${Number.isFinite(v) ? v.toFixed(3) : 'no battles'}`,
    }),
    battleCounts: heatmapSvg({
      title: 'Battle count for each pair of models (without ties)',
      labels: models,
      values: matrices.battles,
      format: (v) => String(v),
      color: sequentialColor(maxCount),
      describe: (a, b, v) => `Model A: ${a}, model B: ${b}, battles: ${v}`,
    }),
  };
}
