/**
 * Bradley-Terry maximum likelihood, as FastChat's `compute_mle_elo` / `compute_elo_mle_with_tie`: P(i beats j) =
 * σ(θ_i − θ_j), a tie counts as half a win and half a loss (FastChat duplicates each battle and splits a tie into
 * one win each — the same likelihood up to a factor of two). Fitted by Newton's method with a backtracking line
 * search on the exact Hessian (the graph Laplacian of the comparison weights), warm-startable for bootstrap rounds.
 *
 * A ridge of 1e-6 on θ keeps the Hessian positive definite. It does not move identifiable ratings measurably
 * (well below 0.01 Elo for any real data set) but keeps two degenerate cases finite: a model that won (or lost)
 * every battle, whose MLE is infinite, and models in disconnected groups, which the ridge centres at zero.
 */
import { solveSpd } from './cholesky';
import type { PairIndex, PairTotals } from './pairs';

export interface BtOptions {
  ridge?: number;
  maxIterations?: number;
  /** Starting point (natural scale), e.g. the full-data fit for a bootstrap round. */
  initial?: Float64Array;
}

export interface BtFit {
  /** Ratings on the natural (log-odds) scale, indexed like the table's models. */
  theta: Float64Array;
  iterations: number;
  converged: boolean;
}

const DEFAULT_RIDGE = 1e-6;
const RELATIVE_TOLERANCE = 1e-15;

function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Negative penalised log-likelihood. */
export function btLoss(index: PairIndex, totals: PairTotals, theta: Float64Array, ridge = DEFAULT_RIDGE): number {
  let loss = 0;
  for (let p = 0; p < index.pairI.length; p++) {
    const n = totals.battles[p];
    if (n === 0) continue;
    const d = theta[index.pairI[p]] - theta[index.pairJ[p]];
    const s = totals.scoreI[p];
    loss -= s * logSigmoid(d) + (n - s) * logSigmoid(-d);
  }
  for (let i = 0; i < theta.length; i++) loss += 0.5 * ridge * theta[i] * theta[i];
  return loss;
}

interface Derivatives {
  gradient: Float64Array;
  hessian: Float64Array; // [m, m] row-major
}

function derivatives(index: PairIndex, totals: PairTotals, theta: Float64Array, ridge: number): Derivatives {
  const m = theta.length;
  const gradient = new Float64Array(m);
  const hessian = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    gradient[i] = ridge * theta[i];
    hessian[i * m + i] = ridge;
  }
  for (let p = 0; p < index.pairI.length; p++) {
    const n = totals.battles[p];
    if (n === 0) continue;
    const i = index.pairI[p];
    const j = index.pairJ[p];
    const prob = sigmoid(theta[i] - theta[j]);
    const g = n * prob - totals.scoreI[p];
    const w = n * prob * (1 - prob);
    gradient[i] += g;
    gradient[j] -= g;
    hessian[i * m + i] += w;
    hessian[j * m + j] += w;
    hessian[i * m + j] -= w;
    hessian[j * m + i] -= w;
  }
  return { gradient, hessian };
}

/** Backtracking (Armijo) step along `direction`; returns the new point and its loss. */
function lineSearch(
  f: (theta: Float64Array) => number, theta: Float64Array, direction: Float64Array, slope: number, loss: number,
): { theta: Float64Array; loss: number } {
  let step = 1;
  for (let tries = 0; tries < 50; tries++) {
    const next = theta.map((t, i) => t + step * direction[i]);
    const nextLoss = f(next);
    if (nextLoss <= loss + 1e-4 * step * slope) return { theta: next, loss: nextLoss };
    step /= 2;
  }
  return { theta, loss };
}

export function fitBradleyTerry(index: PairIndex, totals: PairTotals, options: BtOptions = {}): BtFit {
  const ridge = options.ridge ?? DEFAULT_RIDGE;
  const maxIterations = options.maxIterations ?? 100;
  const f = (t: Float64Array): number => btLoss(index, totals, t, ridge);
  let theta: Float64Array = options.initial ? Float64Array.from(options.initial) : new Float64Array(index.modelCount);
  let loss = f(theta);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const { gradient, hessian } = derivatives(index, totals, theta, ridge);
    const direction = solveSpd(hessian, gradient.map((g) => -g), theta.length);
    const slope = direction.reduce((sum, d, i) => sum + d * gradient[i], 0);
    // Newton decrement: the loss the full step would still gain; stop once it is at rounding level.
    const scale = 1 + Math.abs(loss);
    if (-slope / 2 <= RELATIVE_TOLERANCE * scale) return { theta, iterations: iteration, converged: true };
    const next = lineSearch(f, theta, direction, slope, loss);
    if (next.theta === theta) return { theta, iterations: iteration, converged: -slope / 2 <= 1e-9 * scale };
    theta = next.theta;
    loss = next.loss;
  }
  return { theta, iterations: maxIterations, converged: false };
}
