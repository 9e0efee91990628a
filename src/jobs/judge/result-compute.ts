/**
 * The numbers of show-result (pure), computed as FastChat's show_result.py does:
 * single — judgments with score −1 dropped, mean score per model for turn 1, turn 2 and over all
 * turns together; pairwise — games with an `error` in either position dropped, a game is a tie when
 * g1 says tie or the two positions disagree, win/loss/tie counts, rates and win_rate_adjusted
 * (a tie counts half a win), the baseline left out of the table. FastChat filters `--model-list`
 * on model_1 only in pairwise mode; so does this.
 */
import type { PairJudgment, QuestionId, SingleJudgment } from './records';

export interface SingleRow {
  model: string;
  turn1: number | null;
  turn2: number | null;
  average: number | null;
}

export interface PairRow {
  model: string;
  win: number;
  loss: number;
  tie: number;
  win_rate: number;
  loss_rate: number;
  win_rate_adjusted: number;
}

export interface CategoryTable {
  categories: string[];
  /** model → category → value (mean score, or win_rate_adjusted in pairwise modes). */
  values: Map<string, Map<string, number>>;
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Desc by value, nulls last, then by model name. */
export function byValueDesc<T extends { model: string }>(value: (t: T) => number | null): (a: T, b: T) => number {
  return (a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va !== vb) return vb === null ? -1 : va === null ? 1 : vb - va;
    return a.model < b.model ? -1 : a.model > b.model ? 1 : 0;
  };
}

/** What the tables leave out as unparseable (score −1, or an `error` game) among the judgments they select. */
export interface Exclusions {
  selected: number;
  excluded: number;
}

function selectedSingle(records: readonly SingleJudgment[], modelList?: readonly string[]): SingleJudgment[] {
  return records.filter((r) => !modelList || modelList.includes(r.model));
}

export function validSingle(records: readonly SingleJudgment[], modelList?: readonly string[]): SingleJudgment[] {
  return selectedSingle(records, modelList).filter((r) => r.score !== -1);
}

export function singleExclusions(records: readonly SingleJudgment[], modelList?: readonly string[]): Exclusions {
  const selected = selectedSingle(records, modelList);
  return { selected: selected.length, excluded: selected.filter((r) => r.score === -1).length };
}

export function computeSingle(records: readonly SingleJudgment[], modelList?: readonly string[]): SingleRow[] {
  const rows = [...groupBy(validSingle(records, modelList), (r) => r.model)].map(([model, rs]) => ({
    model,
    turn1: mean(rs.filter((r) => r.turn === 1).map((r) => r.score)),
    turn2: mean(rs.filter((r) => r.turn === 2).map((r) => r.score)),
    average: mean(rs.map((r) => r.score)),
  }));
  return rows.sort(byValueDesc((r) => r.average));
}

function selectedPairs(records: readonly PairJudgment[], modelList?: readonly string[], baselineModel?: string): PairJudgment[] {
  return records.filter(
    (r) => (!modelList || modelList.includes(r.model_1)) && (baselineModel === undefined || r.model_1 === baselineModel || r.model_2 === baselineModel),
  );
}

const isErrorGame = (r: PairJudgment): boolean => r.g1_winner === 'error' || r.g2_winner === 'error';

export function validPairs(records: readonly PairJudgment[], modelList?: readonly string[], baselineModel?: string): PairJudgment[] {
  return selectedPairs(records, modelList, baselineModel).filter((r) => !isErrorGame(r));
}

export function pairExclusions(records: readonly PairJudgment[], modelList?: readonly string[], baselineModel?: string): Exclusions {
  const selected = selectedPairs(records, modelList, baselineModel);
  return { selected: selected.length, excluded: selected.filter(isErrorGame).length };
}

export function tallyPairs(games: readonly PairJudgment[], baselineModel?: string): PairRow[] {
  const counts = new Map<string, { win: number; loss: number; tie: number }>();
  const add = (model: string, field: 'win' | 'loss' | 'tie'): void => {
    const c = counts.get(model) ?? { win: 0, loss: 0, tie: 0 };
    c[field] += 1;
    counts.set(model, c);
  };
  for (const g of games) {
    if (g.g1_winner === 'tie' || g.g1_winner !== g.g2_winner) {
      add(g.model_1, 'tie');
      add(g.model_2, 'tie');
    } else {
      const [winner, loser] = g.g1_winner === 'model_1' ? [g.model_1, g.model_2] : [g.model_2, g.model_1];
      add(winner, 'win');
      add(loser, 'loss');
    }
  }
  const rows = [...counts]
    .filter(([model]) => model !== baselineModel)
    .map(([model, c]) => {
      const n = c.win + c.loss + c.tie;
      return { model, ...c, win_rate: c.win / n, loss_rate: c.loss / n, win_rate_adjusted: (c.win + 0.5 * c.tie) / n };
    });
  return rows.sort(byValueDesc((r) => r.win_rate_adjusted));
}

export function computePairwise(records: readonly PairJudgment[], modelList?: readonly string[], baselineModel?: string): PairRow[] {
  return tallyPairs(validPairs(records, modelList, baselineModel), baselineModel);
}

type CategoryOf = (id: QuestionId) => string;

function categoryOrder(seen: Iterable<string>, known: readonly string[]): string[] {
  const present = new Set(seen);
  return [...known.filter((c) => present.has(c)), ...[...present].filter((c) => !known.includes(c)).sort()];
}

/** Mean score per model and category (both turns, −1 excluded). */
export function singleByCategory(records: readonly SingleJudgment[], categoryOf: CategoryOf, knownCategories: readonly string[], modelList?: readonly string[]): CategoryTable {
  const valid = validSingle(records, modelList);
  const values = new Map<string, Map<string, number>>();
  for (const [model, rs] of groupBy(valid, (r) => r.model)) {
    const perCat = new Map<string, number>();
    for (const [cat, cs] of groupBy(rs, (r) => categoryOf(r.question_id))) perCat.set(cat, mean(cs.map((r) => r.score)) ?? 0);
    values.set(model, perCat);
  }
  return { categories: categoryOrder(valid.map((r) => categoryOf(r.question_id)), knownCategories), values };
}

/** win_rate_adjusted per model and category, counted as computePairwise counts. */
export function pairwiseByCategory(records: readonly PairJudgment[], categoryOf: CategoryOf, knownCategories: readonly string[], modelList?: readonly string[], baselineModel?: string): CategoryTable {
  const valid = validPairs(records, modelList, baselineModel);
  const values = new Map<string, Map<string, number>>();
  for (const [cat, games] of groupBy(valid, (g) => categoryOf(g.question_id))) {
    for (const row of tallyPairs(games, baselineModel)) {
      const perCat = values.get(row.model) ?? new Map<string, number>();
      perCat.set(cat, row.win_rate_adjusted);
      values.set(row.model, perCat);
    }
  }
  return { categories: categoryOrder(valid.map((g) => categoryOf(g.question_id)), knownCategories), values };
}
