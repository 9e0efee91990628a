/**
 * Planning gen-judgment (pure), as FastChat's gen_judgment.py: matches for single grading, pairwise
 * against a baseline, or all pairs; turn 1 with single-turn prompts and turn 2 with multi-turn
 * prompts (two-turn questions only); reference-guided prompts for NEED_REF_CATS; FastChat's order
 * (general, then reference-guided; turn 1, then turn 2). Keys identify a judgment for resuming.
 */
import { FleetError } from '../../common/errors';
import type { JudgmentMode } from './bench-files';
import { NEED_REF_CATS, selectPromptName } from './prompts';
import { qidKey, type ModelAnswer, type PairJudgment, type Question, type QuestionId, type SingleJudgment } from './records';

interface MatchBase {
  question: Question;
  turn: 1 | 2;
  promptName: string;
  /** Reference answers per turn for reference-guided prompts, else empty. */
  reference: string[];
}

export interface SingleMatch extends MatchBase {
  kind: 'single';
  model: string;
  answer: string[];
}

export interface PairMatch extends MatchBase {
  kind: 'pair';
  model1: string;
  model2: string;
  answer1: string[];
  answer2: string[];
}

export type Match = SingleMatch | PairMatch;

export interface PlanInput {
  mode: JudgmentMode;
  questions: readonly Question[];
  models: readonly string[];
  baselineModel: string;
  /** model → question key → answer. */
  answers: ReadonlyMap<string, ReadonlyMap<string, ModelAnswer>>;
  /** question key → reference answer (the judge's reference file). */
  references: ReadonlyMap<string, ModelAnswer>;
}

const needsRef = (q: Question): boolean => NEED_REF_CATS.includes(q.category);

function turnsOf(input: PlanInput, model: string, q: Question): string[] {
  return input.answers.get(model)?.get(qidKey(q.question_id))?.choices[0].turns ?? [];
}

/** Model pairs per mode: [evaluated, baseline] or every [i, j] with i < j; single mode: [model, model]. */
function modelPairs(input: PlanInput): Array<[string, string]> {
  if (input.mode === 'single') return input.models.map((m) => [m, m]);
  if (input.mode === 'pairwise-baseline') {
    return input.models.filter((m) => m !== input.baselineModel).map((m) => [m, input.baselineModel]);
  }
  return input.models.flatMap((m1, i) => input.models.slice(i + 1).map((m2): [string, string] => [m1, m2]));
}

function matchesFor(input: PlanInput, q: Question, turn: 1 | 2): Match[] {
  const kind = input.mode === 'single' ? 'single' : 'pairwise';
  const base: MatchBase = {
    question: q,
    turn,
    promptName: selectPromptName(kind, q.category, turn),
    reference: needsRef(q) ? (input.references.get(qidKey(q.question_id))?.choices[0].turns ?? []) : [],
  };
  return modelPairs(input).map(([m1, m2]): Match =>
    kind === 'single'
      ? { ...base, kind: 'single', model: m1, answer: turnsOf(input, m1, q) }
      : { ...base, kind: 'pair', model1: m1, model2: m2, answer1: turnsOf(input, m1, q), answer2: turnsOf(input, m2, q) },
  );
}

export function planMatches(input: PlanInput): Match[] {
  const general = input.questions.filter((q) => !needsRef(q));
  const math = input.questions.filter(needsRef);
  const twoTurn = (q: Question): boolean => q.turns.length === 2;
  return [
    ...general.flatMap((q) => matchesFor(input, q, 1)),
    ...math.flatMap((q) => matchesFor(input, q, 1)),
    ...general.filter(twoTurn).flatMap((q) => matchesFor(input, q, 2)),
    ...math.filter(twoTurn).flatMap((q) => matchesFor(input, q, 2)),
  ];
}

/** FastChat's check_data: every model answered every question; references exist where needed. */
export function checkPlanData(input: PlanInput, referenceSource: string): void {
  const missing: string[] = [];
  const models = input.mode === 'pairwise-baseline' ? [...new Set([...input.models, input.baselineModel])] : input.models;
  for (const m of models) {
    if (!input.answers.has(m)) missing.push(`no answers for model '${m}'`);
    else for (const q of input.questions) if (!input.answers.get(m)?.has(qidKey(q.question_id))) missing.push(`model '${m}' has no answer to question ${q.question_id}`);
  }
  for (const q of input.questions.filter(needsRef)) {
    const ref = input.references.get(qidKey(q.question_id));
    if (!ref || ref.choices[0].turns.length < Math.min(q.turns.length, 2)) missing.push(`no reference answer to question ${q.question_id} in ${referenceSource}`);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join('; ');
    throw new FleetError('invalid_request', `missing data: ${shown}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}`);
  }
}

const keyOf = (parts: Array<string | number | QuestionId>): string => JSON.stringify(parts);

/** Identifies a judgment: question, model(s), turn, judge model and prompt. */
export function matchKey(m: Match, judgeModel: string): string {
  return m.kind === 'single'
    ? keyOf(['single', qidKey(m.question.question_id), m.model, m.turn, judgeModel, m.promptName])
    : keyOf(['pair', qidKey(m.question.question_id), m.model1, m.model2, m.turn, judgeModel, m.promptName]);
}

export function singleRecordKey(j: SingleJudgment): string {
  return keyOf(['single', qidKey(j.question_id), j.model, j.turn, j.judge[0], j.judge[1]]);
}

export function pairRecordKey(j: PairJudgment): string {
  return keyOf(['pair', qidKey(j.question_id), j.model_1, j.model_2, j.turn, j.judge[0], j.judge[1]]);
}
