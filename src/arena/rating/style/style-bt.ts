/**
 * Bradley–Terry with style covariates (lmarena's style control): P(A beats B) = σ(θ_A − θ_B + βᵀx), x the
 * battle's normalised style differences (see style-features), a tie half a win as in the plain fit. The model
 * strengths θ are then the ratings "had both answers had the same style", β how much each style element sways a
 * vote. Newton's method on the exact Hessian ((m + 4)² dense: fine for hundreds of models) with a backtracking line
 * search; a 1e-6 ridge as in bradley-terry.ts. Battles carry weights so a bootstrap round is a reweighting.
 */
import { solveSpd } from '../cholesky';
import { STYLE_FEATURES } from './style-features';

export interface StyleBattles {
  modelCount: number;
  length: number;
  a: Int32Array;
  b: Int32Array;
  /** A's score: 1 win, 0.5 tie, 0 loss. */
  score: Float64Array;
  /** [length × 4] normalised style differences. */
  x: Float64Array;
}

export interface StyleFit {
  theta: Float64Array;
  beta: Float64Array;
  converged: boolean;
}

const RIDGE = 1e-6;
const K = STYLE_FEATURES.length;

function logSigmoid(z: number): number {
  return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
}

function margin(data: StyleBattles, p: Float64Array, k: number): number {
  const m = data.modelCount;
  let z = p[data.a[k]] - p[data.b[k]];
  for (let f = 0; f < K; f++) z += p[m + f] * data.x[k * K + f];
  return z;
}

export function styleLoss(data: StyleBattles, p: Float64Array, weights?: Float64Array): number {
  let loss = 0;
  for (let k = 0; k < data.length; k++) {
    const w = weights ? weights[k] : 1;
    if (w === 0) continue;
    const z = margin(data, p, k);
    loss -= w * (data.score[k] * logSigmoid(z) + (1 - data.score[k]) * logSigmoid(-z));
  }
  for (let i = 0; i < p.length; i++) loss += 0.5 * RIDGE * p[i] * p[i];
  return loss;
}

export function fitStyleBradleyTerry(data: StyleBattles, weights?: Float64Array, initial?: Float64Array, maxIterations = 100): StyleFit {
  const m = data.modelCount;
  const n = m + K;
  let p = initial ? Float64Array.from(initial) : new Float64Array(n);
  let loss = styleLoss(data, p, weights);
  const d = new Float64Array(n);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const gradient = p.map((v) => RIDGE * v);
    const hessian = new Float64Array(n * n);
    for (let i = 0; i < n; i++) hessian[i * n + i] = RIDGE;
    for (let k = 0; k < data.length; k++) {
      const w = weights ? weights[k] : 1;
      if (w === 0) continue;
      const prob = 1 / (1 + Math.exp(-margin(data, p, k)));
      const g = w * (prob - data.score[k]);
      const h = w * prob * (1 - prob);
      // d = e_a − e_b + x (sparse in the model part)
      const idx = [data.a[k], data.b[k]];
      const val = [1, -1];
      for (let f = 0; f < K; f++) {
        idx.push(m + f);
        val.push(data.x[k * K + f]);
      }
      for (let r = 0; r < idx.length; r++) {
        gradient[idx[r]] += g * val[r];
        for (let c = 0; c < idx.length; c++) hessian[idx[r] * n + idx[c]] += h * val[r] * val[c];
      }
    }
    const direction = solveSpd(hessian, gradient.map((g) => -g), n);
    const slope = direction.reduce((sum, v, i) => sum + v * gradient[i], 0);
    if (-slope / 2 <= 1e-15 * (1 + Math.abs(loss))) return { theta: p.slice(0, m), beta: p.slice(m), converged: true };
    let step = 1;
    let moved = false;
    for (let tries = 0; tries < 50; tries++) {
      for (let i = 0; i < n; i++) d[i] = p[i] + step * direction[i];
      const next = styleLoss(data, d, weights);
      if (next <= loss + 1e-4 * step * slope) {
        p = Float64Array.from(d);
        loss = next;
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) return { theta: p.slice(0, m), beta: p.slice(m), converged: -slope / 2 <= 1e-9 * (1 + Math.abs(loss)) };
  }
  return { theta: p.slice(0, m), beta: p.slice(m), converged: false };
}
