/**
 * Battles grouped by unordered model pair: the Bradley-Terry likelihood depends on the data only through, for each
 * pair (i, j), the number of battles n_ij and i's score s_ij (wins + half the ties). The index maps every battle to
 * its pair once; totals can then be summed for the full data or for any bootstrap resample.
 */
import { OUTCOME_A_WINS, OUTCOME_TIE, type BattleTable } from './battle-table';

export interface PairIndex {
  modelCount: number;
  pairI: Int32Array; // [pairs], pairI < pairJ
  pairJ: Int32Array; // [pairs]
  battlePair: Int32Array; // [battles], -1 for a self-battle (ignored)
  battleScoreI: Float64Array; // [battles], 1 / 0.5 / 0 from the side of pairI
}

export interface PairTotals {
  battles: Float64Array; // [pairs] n_ij
  scoreI: Float64Array; // [pairs] s_ij
}

export function buildPairIndex(table: BattleTable): PairIndex {
  const m = table.models.length;
  const pairOf = new Map<number, number>();
  const pairI: number[] = [];
  const pairJ: number[] = [];
  const battlePair = new Int32Array(table.length);
  const battleScoreI = new Float64Array(table.length);
  for (let k = 0; k < table.length; k++) {
    const a = table.a[k];
    const b = table.b[k];
    if (a === b) {
      battlePair[k] = -1;
      continue;
    }
    const i = Math.min(a, b);
    const j = Math.max(a, b);
    let pair = pairOf.get(i * m + j);
    if (pair === undefined) {
      pair = pairI.length;
      pairOf.set(i * m + j, pair);
      pairI.push(i);
      pairJ.push(j);
    }
    battlePair[k] = pair;
    const outcome = table.outcome[k];
    const scoreA = outcome === OUTCOME_A_WINS ? 1 : outcome === OUTCOME_TIE ? 0.5 : 0;
    battleScoreI[k] = a === i ? scoreA : 1 - scoreA;
  }
  return { modelCount: m, pairI: Int32Array.from(pairI), pairJ: Int32Array.from(pairJ), battlePair, battleScoreI };
}

/** Totals over all battles. */
export function pairTotals(index: PairIndex): PairTotals {
  const totals = emptyTotals(index);
  for (let k = 0; k < index.battlePair.length; k++) addBattle(index, totals, k);
  return totals;
}

export function emptyTotals(index: PairIndex): PairTotals {
  return { battles: new Float64Array(index.pairI.length), scoreI: new Float64Array(index.pairI.length) };
}

export function addBattle(index: PairIndex, totals: PairTotals, battle: number): void {
  const pair = index.battlePair[battle];
  if (pair < 0) return;
  totals.battles[pair] += 1;
  totals.scoreI[pair] += index.battleScoreI[battle];
}

/** Which models take part in at least one counted battle. */
export function presentModels(index: PairIndex, totals: PairTotals): Uint8Array {
  const present = new Uint8Array(index.modelCount);
  for (let p = 0; p < index.pairI.length; p++) {
    if (totals.battles[p] > 0) {
      present[index.pairI[p]] = 1;
      present[index.pairJ[p]] = 1;
    }
  }
  return present;
}
