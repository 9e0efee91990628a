/**
 * When the data cannot pin a Bradley-Terry rating down, say so: a model that won (or lost) all its battles has an
 * infinite maximum-likelihood rating, and groups of models that never met (directly or through others) have no
 * common scale. The fit still returns finite numbers (see bradley-terry.ts); these warnings tell the reader why.
 */
import type { BattleTable } from './battle-table';
import type { PairIndex, PairTotals } from './pairs';

function unboundedModels(table: BattleTable, index: PairIndex, totals: PairTotals): string[] {
  const m = index.modelCount;
  const battles = new Float64Array(m);
  const score = new Float64Array(m);
  for (let p = 0; p < index.pairI.length; p++) {
    const n = totals.battles[p];
    const i = index.pairI[p];
    const j = index.pairJ[p];
    battles[i] += n;
    battles[j] += n;
    score[i] += totals.scoreI[p];
    score[j] += n - totals.scoreI[p];
  }
  const out: string[] = [];
  for (let i = 0; i < m; i++) {
    if (battles[i] === 0) continue;
    if (score[i] === battles[i]) out.push(`${table.models[i]} won every battle`);
    else if (score[i] === 0) out.push(`${table.models[i]} lost every battle`);
  }
  return out;
}

function componentCount(index: PairIndex, totals: PairTotals): number {
  const parent = Array.from({ length: index.modelCount }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  const used = new Set<number>();
  for (let p = 0; p < index.pairI.length; p++) {
    if (totals.battles[p] === 0) continue;
    used.add(index.pairI[p]);
    used.add(index.pairJ[p]);
    parent[find(index.pairI[p])] = find(index.pairJ[p]);
  }
  return new Set([...used].map(find)).size;
}

export function ratingWarnings(table: BattleTable, index: PairIndex, totals: PairTotals): string[] {
  const warnings: string[] = [];
  if (table.length === 0) warnings.push('no battles to rate');
  const unbounded = unboundedModels(table, index, totals);
  if (unbounded.length > 0) {
    warnings.push(`unbounded Bradley-Terry ratings (shown values are held finite by a tiny ridge and are not meaningful): ${unbounded.join('; ')}`);
  }
  const components = componentCount(index, totals);
  if (components > 1) warnings.push(`the models form ${components} groups that never met: ratings of different groups are not comparable`);
  return warnings;
}
