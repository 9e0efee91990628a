/**
 * FastChat's llm_judge records — questions, model answers, single and pairwise judgments — with
 * validation from parsed JSON (`to*`, naming file and line on error) and serialisation to the exact
 * line FastChat writes (`*Line`, key order and Python's JSON layout).
 */
import { FleetError } from '../../common/errors';
import { PyFloat, pyJson } from './python-json';
import { ratingText } from './verdict-parse';

export type QuestionId = number | string;

export interface Question {
  question_id: QuestionId;
  category: string;
  turns: string[];
  /** Overrides the category's temperature in gen-model-answer (FastChat's `required_temperature`). */
  required_temperature?: number;
}

export interface AnswerChoice {
  index: number;
  turns: string[];
}

export interface ModelAnswer {
  question_id: QuestionId;
  answer_id: string;
  model_id: string;
  choices: AnswerChoice[];
  tstamp: number;
}

export type PairWinner = 'model_1' | 'model_2' | 'tie' | 'error';

export interface SingleJudgment {
  question_id: QuestionId;
  model: string;
  judge: [string, string];
  user_prompt: string;
  judgment: string;
  score: number;
  turn: number;
  tstamp: number;
}

export interface PairJudgment {
  question_id: QuestionId;
  model_1: string;
  model_2: string;
  g1_winner: string;
  g2_winner: string;
  judge: [string, string];
  g1_user_prompt: string;
  g1_judgment: string;
  g2_user_prompt: string;
  g2_judgment: string;
  turn: number;
  tstamp: number;
}

type Obj = Record<string, unknown>;

function bad(where: string, message: string): FleetError {
  return new FleetError('invalid_request', `${where}: ${message}`);
}

function asObject(value: unknown, where: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(where, 'expected a JSON object');
  return value as Obj;
}

function str(obj: Obj, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw bad(where, `'${key}' must be a string`);
  return v;
}

function num(obj: Obj, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(where, `'${key}' must be a number`);
  return v;
}

function strings(obj: Obj, key: string, where: string): string[] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((t) => typeof t === 'string')) throw bad(where, `'${key}' must be a non-empty list of strings`);
  return v;
}

function questionId(obj: Obj, where: string): QuestionId {
  const v = obj.question_id;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string') return v;
  throw bad(where, "'question_id' must be a number or a string");
}

function judgePair(obj: Obj, where: string): [string, string] {
  const v = obj.judge;
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') {
    throw bad(where, "'judge' must be [judge model, prompt name]");
  }
  return [v[0], v[1]];
}

/** A stable map key for a question id (numbers and strings never collide). */
export function qidKey(id: QuestionId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

export function toQuestion(value: unknown, where: string): Question {
  const obj = asObject(value, where);
  const q: Question = { question_id: questionId(obj, where), category: str(obj, 'category', where), turns: strings(obj, 'turns', where) };
  if (obj.required_temperature !== undefined) q.required_temperature = num(obj, 'required_temperature', where);
  return q;
}

export function toModelAnswer(value: unknown, where: string): ModelAnswer {
  const obj = asObject(value, where);
  const choices = obj.choices;
  if (!Array.isArray(choices) || choices.length === 0) throw bad(where, "'choices' must be a non-empty list");
  return {
    question_id: questionId(obj, where),
    answer_id: typeof obj.answer_id === 'string' ? obj.answer_id : '',
    model_id: typeof obj.model_id === 'string' ? obj.model_id : '',
    choices: choices.map((c, i) => {
      const choice = asObject(c, `${where} choices[${i}]`);
      return { index: typeof choice.index === 'number' ? choice.index : i, turns: strings(choice, 'turns', `${where} choices[${i}]`) };
    }),
    tstamp: typeof obj.tstamp === 'number' ? obj.tstamp : 0,
  };
}

/** FastChat files written before multi-turn judging have no `turn`: those are turn 1. */
function turnOf(obj: Obj, where: string): number {
  return obj.turn === undefined ? 1 : num(obj, 'turn', where);
}

export function toSingleJudgment(value: unknown, where: string): SingleJudgment {
  const obj = asObject(value, where);
  return {
    question_id: questionId(obj, where),
    model: str(obj, 'model', where),
    judge: judgePair(obj, where),
    user_prompt: typeof obj.user_prompt === 'string' ? obj.user_prompt : '',
    judgment: typeof obj.judgment === 'string' ? obj.judgment : '',
    score: num(obj, 'score', where),
    turn: turnOf(obj, where),
    tstamp: typeof obj.tstamp === 'number' ? obj.tstamp : 0,
  };
}

export function toPairJudgment(value: unknown, where: string): PairJudgment {
  const obj = asObject(value, where);
  const text = (key: string): string => (typeof obj[key] === 'string' ? obj[key] : '');
  return {
    question_id: questionId(obj, where),
    model_1: str(obj, 'model_1', where),
    model_2: str(obj, 'model_2', where),
    g1_winner: str(obj, 'g1_winner', where),
    g2_winner: str(obj, 'g2_winner', where),
    judge: judgePair(obj, where),
    g1_user_prompt: text('g1_user_prompt'),
    g1_judgment: text('g1_judgment'),
    g2_user_prompt: text('g2_user_prompt'),
    g2_judgment: text('g2_judgment'),
    turn: turnOf(obj, where),
    tstamp: typeof obj.tstamp === 'number' ? obj.tstamp : 0,
  };
}

export function answerLine(a: ModelAnswer): string {
  return pyJson({
    question_id: a.question_id,
    answer_id: a.answer_id,
    model_id: a.model_id,
    choices: a.choices.map((c) => ({ index: c.index, turns: c.turns })),
    tstamp: new PyFloat(a.tstamp),
  });
}

export function singleJudgmentLine(j: SingleJudgment): string {
  return pyJson({
    question_id: j.question_id,
    model: j.model,
    judge: [j.judge[0], j.judge[1]],
    user_prompt: j.user_prompt,
    judgment: j.judgment,
    // Python's ast.literal_eval makes `8.0` / `8.` a float (written 8.0) and `8` an int.
    score: ratingText(j.judgment)?.includes('.') ? new PyFloat(j.score) : j.score,
    turn: j.turn,
    tstamp: new PyFloat(j.tstamp),
  });
}

export function pairJudgmentLine(p: PairJudgment): string {
  return pyJson({
    question_id: p.question_id,
    model_1: p.model_1,
    model_2: p.model_2,
    g1_winner: p.g1_winner,
    g2_winner: p.g2_winner,
    judge: [p.judge[0], p.judge[1]],
    g1_user_prompt: p.g1_user_prompt,
    g1_judgment: p.g1_judgment,
    g2_user_prompt: p.g2_user_prompt,
    g2_judgment: p.g2_judgment,
    turn: p.turn,
    tstamp: new PyFloat(p.tstamp),
  });
}
