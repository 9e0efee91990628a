/**
 * show-result numbers for test/fixtures/judge (mini-bench answers + judge-texts.json), worked out by
 * hand from the fixture texts with FastChat's rules (−1 and `error` games excluded; a game is a tie
 * when g1 says tie or the positions disagree; win_rate_adjusted counts a tie as half a win).
 *
 * Single scores (q1 writing, q2 math, q3 coding — two turns; q4 stem — one turn):
 *   alpha          t1: 8, 9, 10, 7      t2: 6, −1 (no rating), 5
 *   beta           t1: 7 ([7] backup), 6.5, 3, 4     t2: 7, 2, −1 ([[ten]])
 *   gpt-3.5-turbo  t1: 9 ([[9]] beats an earlier [3]), 8, 6, 5     t2: 8, 6, 7
 */
export const SINGLE = [
  { model: 'alpha', turn1: 34 / 4, turn2: 11 / 2, average: 45 / 6 },
  { model: 'gpt-3.5-turbo', turn1: 28 / 4, turn2: 21 / 3, average: 49 / 7 },
  { model: 'beta', turn1: 20.5 / 4, turn2: 9 / 2, average: 29.5 / 6 },
];

/** Mean score per category over both turns. */
export const SINGLE_BY_CATEGORY: Record<string, Record<string, number>> = {
  alpha: { writing: 7, math: 10, coding: 6, stem: 9 },
  beta: { writing: 7, math: 2.5, coding: 4, stem: 6.5 },
  'gpt-3.5-turbo': { writing: 8.5, math: 6, coding: 6, stem: 8 },
};

/**
 * Pairwise vs gpt-3.5-turbo (g1 = model first, g2 = swapped):
 *   alpha: q1t1 win, q4t1 inconsistent → tie, q2t1 tie, q3t1 loss, q1t2 error (dropped), q2t2 win,
 *          q3t2 win ("[[B]] … [[A]]": [[A]] is looked for first) → W3 L1 T2
 *   beta:  q1t1 loss, q4t1 win, q2t1 g1 tie → tie, q3t1 loss, q1t2 g2 "[A]" → error (dropped),
 *          q2t2 inconsistent → tie, q3t2 loss → W1 L3 T2
 */
export const PAIRWISE_BASELINE = [
  { model: 'alpha', win: 3, loss: 1, tie: 2, win_rate: 3 / 6, loss_rate: 1 / 6, win_rate_adjusted: 4 / 6 },
  { model: 'beta', win: 1, loss: 3, tie: 2, win_rate: 1 / 6, loss_rate: 3 / 6, win_rate_adjusted: 2 / 6 },
];

export const PAIRWISE_BASELINE_BY_CATEGORY: Record<string, Record<string, number>> = {
  alpha: { writing: 1, math: 0.75, coding: 0.5, stem: 0.5 },
  beta: { writing: 0, math: 0.5, coding: 0, stem: 1 },
};

/**
 * All pairs add alpha vs beta: q1t1, q4t1, q2t1, q3t2 alpha; q3t1 tie; q1t2 beta; q2t2 inconsistent → tie
 * (alpha W4 L1 T2). Totals: alpha W7 L2 T4; beta W2 L7 T4; gpt-3.5-turbo W4 L4 T4.
 */
export const PAIRWISE_ALL = [
  { model: 'alpha', win: 7, loss: 2, tie: 4, win_rate: 7 / 13, loss_rate: 2 / 13, win_rate_adjusted: 9 / 13 },
  { model: 'gpt-3.5-turbo', win: 4, loss: 4, tie: 4, win_rate: 4 / 12, loss_rate: 4 / 12, win_rate_adjusted: 6 / 12 },
  { model: 'beta', win: 2, loss: 7, tie: 4, win_rate: 2 / 13, loss_rate: 7 / 13, win_rate_adjusted: 4 / 13 },
];

/** FastChat filters --model-list on model_1 only: `--model-list beta` keeps the beta-vs-gpt games. */
export const PAIRWISE_ALL_MODEL_LIST_BETA = [
  { model: 'gpt-3.5-turbo', win: 3, loss: 1, tie: 2, win_rate: 3 / 6, loss_rate: 1 / 6, win_rate_adjusted: 4 / 6 },
  { model: 'beta', win: 1, loss: 3, tie: 2, win_rate: 1 / 6, loss_rate: 3 / 6, win_rate_adjusted: 2 / 6 },
];
