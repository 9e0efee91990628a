/**
 * Online Elo as FastChat's `compute_elo`: battles in time order, each moves both ratings by K times the surprise,
 * expected score E_A = 1 / (1 + BASE^((R_B - R_A) / SCALE)), ties scoring one half.
 */
import { OUTCOME_A_WINS, OUTCOME_TIE, type BattleTable } from './battle-table';

export interface EloParams {
  k: number;
  scale: number;
  base: number;
  initRating: number;
}

export const FASTCHAT_ELO: EloParams = { k: 4, scale: 400, base: 10, initRating: 1000 };

/** Final online Elo rating of every model of the table (indexed like `table.models`). */
export function onlineElo(table: BattleTable, params: EloParams = FASTCHAT_ELO): Float64Array {
  const rating = new Float64Array(table.models.length).fill(params.initRating);
  for (let k = 0; k < table.length; k++) {
    const a = table.a[k];
    const b = table.b[k];
    const ra = rating[a];
    const rb = rating[b];
    const expectedA = 1 / (1 + params.base ** ((rb - ra) / params.scale));
    const expectedB = 1 / (1 + params.base ** ((ra - rb) / params.scale));
    const outcome = table.outcome[k];
    const scoreA = outcome === OUTCOME_A_WINS ? 1 : outcome === OUTCOME_TIE ? 0.5 : 0;
    rating[a] += params.k * (scoreA - expectedA);
    rating[b] += params.k * (1 - scoreA - expectedB);
  }
  return rating;
}
