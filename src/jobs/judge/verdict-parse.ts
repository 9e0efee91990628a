/**
 * Reading the judge's text exactly as FastChat's common.py does: a rating from `[[x]]`, else `[x]`
 * (the first match), −1 when absent; a pairwise winner from the substrings `[[A]]`, `[[B]]`, `[[C]]`
 * checked in that order, or from two ratings `[[a, b]]` / `[a, b]` (a tie within 0.1).
 */
import type { OutputFormat } from './prompts';

export type Winner = 'A' | 'B' | 'tie' | 'error';

const ONE_SCORE = /\[\[(\d+\.?\d*)\]\]/;
const ONE_SCORE_BACKUP = /\[(\d+\.?\d*)\]/;
const TWO_SCORES = /\[\[(\d+\.?\d*),\s?(\d+\.?\d*)\]\]/;
const TWO_SCORES_BACKUP = /\[(\d+\.?\d*),\s?(\d+\.?\d*)\]/;
/** FastChat's TIE_DELTA for two-rating pairwise prompts. */
export const TIE_DELTA = 0.1;

/** The rating's text as written by the judge (`8`, `6.5`, `8.`), or undefined when there is none. */
export function ratingText(judgment: string): string | undefined {
  return (ONE_SCORE.exec(judgment) ?? ONE_SCORE_BACKUP.exec(judgment))?.[1];
}

/** The 1–10 rating of a single-answer judgment, or −1 when the text has none. */
export function parseRating(judgment: string): number {
  const text = ratingText(judgment);
  return text === undefined ? -1 : Number(text);
}

/** The winner named by a pairwise judgment (A and B as presented to the judge). */
export function parseWinner(judgment: string, outputFormat: OutputFormat): Winner {
  if (outputFormat === '[[rating_a,rating_b]]') return winnerFromTwoRatings(judgment);
  if (judgment.includes('[[A]]')) return 'A';
  if (judgment.includes('[[B]]')) return 'B';
  if (judgment.includes('[[C]]')) return 'tie';
  return 'error';
}

function winnerFromTwoRatings(judgment: string): Winner {
  const match = TWO_SCORES.exec(judgment) ?? TWO_SCORES_BACKUP.exec(judgment);
  if (!match) return 'error';
  const a = Number(match[1]);
  const b = Number(match[2]);
  if (Math.abs(a - b) <= TIE_DELTA) return 'tie';
  return a > b ? 'A' : 'B';
}

/** A winner from the swapped game (B shown first) expressed in the original names. */
export function unswap(winner: Winner): Winner {
  if (winner === 'A') return 'B';
  if (winner === 'B') return 'A';
  return winner;
}

/** Both games agree → that winner; they disagree → tie; either unparseable → error. */
export function combineGames(g1: Winner, g2Unswapped: Winner): Winner {
  if (g1 === 'error' || g2Unswapped === 'error') return 'error';
  return g1 === g2Unswapped ? g1 : 'tie';
}
