/**
 * Pairwise statistics for the heat maps, as FastChat's `compute_pairwise_win_fraction` and `visualize_battle_count`
 * (both over battles without ties): how often the row model beat the column model, and how many decisive
 * battles each pair had. Matrices are ordered like `models` (usually the leaderboard order).
 */
import { OUTCOME_A_WINS, OUTCOME_B_WINS, type BattleTable } from './battle-table';

export interface PairwiseMatrices {
  models: string[];
  /** winFraction[r][c]: share of decisive battles between r and c won by r; NaN when they never had one. */
  winFraction: number[][];
  /** battles[r][c]: decisive battles between r and c (symmetric). */
  battles: number[][];
}

export function pairwiseMatrices(table: BattleTable, models: string[]): PairwiseMatrices {
  const position = new Map(models.map((m, i) => [m, i]));
  const slot = table.models.map((m) => position.get(m) ?? -1);
  const n = models.length;
  const wins = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let k = 0; k < table.length; k++) {
    const a = slot[table.a[k]];
    const b = slot[table.b[k]];
    if (a < 0 || b < 0 || a === b) continue;
    if (table.outcome[k] === OUTCOME_A_WINS) wins[a][b]++;
    else if (table.outcome[k] === OUTCOME_B_WINS) wins[b][a]++;
  }
  const battles = wins.map((row, r) => row.map((w, c) => w + wins[c][r]));
  const winFraction = wins.map((row, r) => row.map((w, c) => (battles[r][c] === 0 ? Number.NaN : w / battles[r][c])));
  return { models, winFraction, battles };
}
