/** Between a planned match, the Judge contract and FastChat's judgment records (pure). */
import { FleetError } from '../../common/errors';
import {
  JudgeQuestion, PairwiseRequest, SingleGradeRequest, Verdict,
  type PairwiseResponse, type SingleGradeResponse,
} from '../../common/gen/judge';
import type { PairMatch, SingleMatch } from './judgment-plan';
import type { PairJudgment, PairWinner, Question, SingleJudgment } from './records';

function toJudgeQuestion(q: Question, reference: string[]): JudgeQuestion {
  const id = q.question_id;
  const int32 = typeof id === 'number' && Number.isInteger(id) && Math.abs(id) <= 0x7fffffff;
  return JudgeQuestion.fromPartial({ questionId: int32 ? id : 0, category: q.category, turns: q.turns, reference });
}

export function singleRequest(m: SingleMatch, judgeModel: string): SingleGradeRequest {
  return SingleGradeRequest.fromPartial({
    question: toJudgeQuestion(m.question, m.reference),
    answer: m.answer,
    turn: m.turn,
    promptName: m.promptName,
    judgeModel,
  });
}

export function pairRequest(m: PairMatch, judgeModel: string): PairwiseRequest {
  return PairwiseRequest.fromPartial({
    question: toJudgeQuestion(m.question, m.reference),
    answerA: m.answer1,
    answerB: m.answer2,
    turn: m.turn,
    promptName: m.promptName,
    judgeModel,
    swapPositions: true,
  });
}

export function singleRecord(m: SingleMatch, judgeModel: string, r: SingleGradeResponse, tstamp: number): SingleJudgment {
  return {
    question_id: m.question.question_id,
    model: m.model,
    judge: [judgeModel, m.promptName],
    user_prompt: r.userPrompt,
    judgment: r.judgment,
    score: r.score,
    turn: m.turn,
    tstamp,
  };
}

/** A verdict in the original order (A = model_1) as FastChat's g1_winner / g2_winner. */
export function winnerName(v: Verdict): PairWinner {
  if (v === Verdict.VERDICT_A) return 'model_1';
  if (v === Verdict.VERDICT_B) return 'model_2';
  if (v === Verdict.VERDICT_TIE) return 'tie';
  if (v === Verdict.VERDICT_ERROR) return 'error';
  throw new FleetError('internal', `the judge returned no verdict for a game (${String(v)})`);
}

export function pairRecord(m: PairMatch, judgeModel: string, r: PairwiseResponse, tstamp: number): PairJudgment {
  return {
    question_id: m.question.question_id,
    model_1: m.model1,
    model_2: m.model2,
    g1_winner: winnerName(r.g1Verdict),
    g2_winner: winnerName(r.g2Verdict),
    judge: [judgeModel, m.promptName],
    g1_user_prompt: r.g1UserPrompt,
    g1_judgment: r.g1Judgment,
    g2_user_prompt: r.g2UserPrompt,
    g2_judgment: r.g2Judgment,
    turn: m.turn,
    tstamp,
  };
}
