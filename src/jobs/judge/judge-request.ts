/**
 * Validation of Judge requests (proto messages) into `Valid*` types: a known prompt of the right
 * type, a turn the prompt can show, answers for every shown turn, reference answers when the
 * prompt is reference-guided. Errors are FleetError('invalid_request') naming the field.
 */
import { FleetError } from '../../common/errors';
import type { JudgeQuestion, PairwiseRequest, SingleGradeRequest } from '../../common/gen/judge';
import { selectPromptName, type JudgeKind, type JudgePrompt, type JudgePrompts } from './prompts';

export interface ValidQuestion {
  category: string;
  turns: string[];
  reference: string[];
}

interface ValidJudgeCall {
  question: ValidQuestion;
  turn: 1 | 2;
  prompt: JudgePrompt;
  judgeModel: string;
}

export interface ValidSingleGrade extends ValidJudgeCall {
  answer: string[];
}

export interface ValidPairwise extends ValidJudgeCall {
  answerA: string[];
  answerB: string[];
  swapPositions: boolean;
}

function invalid(message: string, param: string): FleetError {
  return new FleetError('invalid_request', message, { param });
}

function validQuestion(question: JudgeQuestion | undefined): ValidQuestion {
  if (!question || question.turns.length === 0) throw invalid('question with at least one turn is required', 'question.turns');
  return { category: question.category, turns: question.turns, reference: question.reference };
}

function validTurn(turn: number, question: ValidQuestion): 1 | 2 {
  const t = turn === 0 ? 1 : turn;
  if (t !== 1 && t !== 2) throw invalid(`turn must be 1 or 2, got ${turn}`, 'turn');
  if (t === 2 && question.turns.length < 2) throw invalid('turn 2 needs a question with two turns', 'turn');
  return t;
}

function validPrompt(kind: JudgeKind, name: string, question: ValidQuestion, turn: 1 | 2, prompts: JudgePrompts): JudgePrompt {
  const chosen = name === '' ? selectPromptName(kind, question.category, turn) : name;
  const prompt = prompts.get(chosen);
  if (!prompt) throw invalid(`unknown judge prompt '${chosen}' (known: ${[...prompts.keys()].join(', ')})`, 'prompt_name');
  if (prompt.type !== kind) throw invalid(`judge prompt '${chosen}' is a ${prompt.type} prompt, not ${kind}`, 'prompt_name');
  if (prompt.multiTurn !== (turn === 2)) {
    throw invalid(`judge prompt '${chosen}' shows ${prompt.multiTurn ? 'two turns' : 'one turn'}; it cannot grade turn ${turn}`, 'prompt_name');
  }
  const needed = prompt.multiTurn ? 2 : 1;
  if (prompt.refBased && question.reference.length < needed) {
    throw invalid(`judge prompt '${chosen}' needs ${needed} reference answer(s), got ${question.reference.length}`, 'question.reference');
  }
  return prompt;
}

function validAnswer(answer: string[], turn: 1 | 2, param: string): string[] {
  if (answer.length < turn) throw invalid(`${param} needs an answer for each of ${turn} turn(s), got ${answer.length}`, param);
  return answer;
}

export function validateSingle(req: SingleGradeRequest, prompts: JudgePrompts, defaultJudgeModel: string): ValidSingleGrade {
  const question = validQuestion(req.question);
  const turn = validTurn(req.turn, question);
  return {
    question,
    turn,
    prompt: validPrompt('single', req.promptName, question, turn, prompts),
    judgeModel: req.judgeModel || defaultJudgeModel,
    answer: validAnswer(req.answer, turn, 'answer'),
  };
}

export function validatePairwise(req: PairwiseRequest, prompts: JudgePrompts, defaultJudgeModel: string): ValidPairwise {
  const question = validQuestion(req.question);
  const turn = validTurn(req.turn, question);
  return {
    question,
    turn,
    prompt: validPrompt('pairwise', req.promptName, question, turn, prompts),
    judgeModel: req.judgeModel || defaultJudgeModel,
    answerA: validAnswer(req.answerA, turn, 'answer_a'),
    answerB: validAnswer(req.answerB, turn, 'answer_b'),
    swapPositions: req.swapPositions,
  };
}
