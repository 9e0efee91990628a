/**
 * From the natural Bradley-Terry scale to the Elo scale (FastChat's `scale_and_offset`): R = SCALE · θ / ln(BASE) +
 * INIT, then shifted so the anchor model has its anchor rating (FastChat: `mixtral-8x7b-instruct-v0.1` = 1114) or,
 * without an anchor model in the data, so the mean rating of the rated models is INIT (1000).
 */
import type { EloParams } from './online-elo';

export interface Anchor {
  model: string;
  rating: number;
}

/** FastChat's convention. */
export const DEFAULT_ANCHOR: Anchor = { model: 'mixtral-8x7b-instruct-v0.1', rating: 1114 };

export interface ScaleInput {
  theta: Float64Array;
  /** 1 for models that took part in the fitted battles; the others get NaN. */
  present: Uint8Array;
  /** Index of the anchor model, or -1 when it is not among the models. */
  anchorIndex: number;
  anchorRating: number;
  params: Pick<EloParams, 'scale' | 'base' | 'initRating'>;
}

export function toEloScale(input: ScaleInput): Float64Array {
  const { theta, present, anchorIndex, params } = input;
  const factor = params.scale / Math.log(params.base);
  const ratings = theta.map((t, i) => (present[i] ? factor * t + params.initRating : Number.NaN));
  let shift: number;
  if (anchorIndex >= 0 && present[anchorIndex]) {
    shift = input.anchorRating - ratings[anchorIndex];
  } else {
    let sum = 0;
    let count = 0;
    ratings.forEach((r) => {
      if (!Number.isNaN(r)) {
        sum += r;
        count++;
      }
    });
    shift = count === 0 ? 0 : params.initRating - sum / count;
  }
  return ratings.map((r) => r + shift);
}

/**
 * Aligns a bootstrap round in which the anchor model happens to be absent: its models are shifted so that their
 * mean equals the mean of the same models in the reference (full-data) ratings, keeping every round on one scale.
 */
export function alignToReference(ratings: Float64Array, reference: Float64Array): Float64Array {
  let diff = 0;
  let count = 0;
  ratings.forEach((r, i) => {
    if (!Number.isNaN(r) && !Number.isNaN(reference[i])) {
      diff += reference[i] - r;
      count++;
    }
  });
  const shift = count === 0 ? 0 : diff / count;
  return ratings.map((r) => r + shift);
}
