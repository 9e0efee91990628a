/** Battles drawn from known Elo ratings (the Bradley-Terry model itself), for recovery tests. */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TableBattle } from '../../src/arena/rating/battle-table';

export function winProbability(ratingA: number, ratingB: number): number {
  return 1 / (1 + 10 ** ((ratingB - ratingA) / 400));
}

export function syntheticBattles(truth: Record<string, number>, count: number, seed: number): TableBattle[] {
  const rng = xoroshiro128plus(seed);
  const models = Object.keys(truth);
  const battles: TableBattle[] = [];
  for (let k = 0; k < count; k++) {
    const a = uniformInt(rng, 0, models.length - 1);
    let b = uniformInt(rng, 0, models.length - 2);
    if (b >= a) b++;
    const p = winProbability(truth[models[a]], truth[models[b]]);
    const winner = uniformFloat64(rng) < p ? 'model_a' : 'model_b';
    battles.push({ modelA: models[a], modelB: models[b], winner, tstampS: 1_700_000_000 + k });
  }
  return battles;
}

/** Asymptotic standard error of each model's rating (Elo points) from the Fisher information at the truth,
 *  with the mean of the ratings fixed (pseudo-inverse of the information matrix, diagonal). */
export function standardErrors(truth: Record<string, number>, battles: TableBattle[]): Record<string, number> {
  const models = Object.keys(truth);
  const m = models.length;
  const c = Math.log(10) / 400;
  const info = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (const battle of battles) {
    const i = models.indexOf(battle.modelA);
    const j = models.indexOf(battle.modelB);
    const p = winProbability(truth[battle.modelA], truth[battle.modelB]);
    const w = c * c * p * (1 - p);
    info[i][i] += w;
    info[j][j] += w;
    info[i][j] -= w;
    info[j][i] -= w;
  }
  // (I + 11ᵀ/m)⁻¹ − 11ᵀ/m is the pseudo-inverse for a connected comparison graph.
  const a = info.map((row) => row.map((v) => v + 1 / m));
  const inverse = invert(a);
  return Object.fromEntries(models.map((model, i) => [model, Math.sqrt(inverse[i][i] - 1 / m)]));
}

function invert(matrix: number[][]): number[][] {
  const n = matrix.length;
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    for (let j = 0; j < 2 * n; j++) a[col][j] /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col];
      for (let j = 0; j < 2 * n; j++) a[r][j] -= f * a[col][j];
    }
  }
  return a.map((row) => row.slice(n));
}

export function meanCentred(ratings: Record<string, number>, mean = 1000): Record<string, number> {
  const values = Object.values(ratings);
  const shift = mean - values.reduce((s, v) => s + v, 0) / values.length;
  return Object.fromEntries(Object.entries(ratings).map(([k, v]) => [k, v + shift]));
}
