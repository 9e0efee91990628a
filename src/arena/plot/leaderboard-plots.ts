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
}

export function leaderboardPlots(table: BattleTable, board: Leaderboard, limit = 25): LeaderboardPlots {
  const models = board.models.slice(0, limit).map((row) => row.model);
  const matrices = pairwiseMatrices(table, models);
  const maxCount = Math.max(0, ...matrices.battles.flat());
  return {
    ratings: ratingsChartSvg(board.models, { limit }),
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
