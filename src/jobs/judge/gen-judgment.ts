/**
 * `fleetchat jobs gen-judgment`: judges model answers through the Judge contract (in-process JudgeCore
 * or a remote `fleetchat judge serve`, the same calls) and appends FastChat's judgment records to
 * `model_judgment/<judge>_single.jsonl` or `<judge>_pair.jsonl`. Resumable after an interruption at any
 * point: judgments already in the file (same question, model(s), turn, judge) are skipped, an
 * interrupted last line is removed and redone, and nothing is written twice.
 */
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { answerFileOf, listAnswerModels, loadAnswerFile, loadQuestions, type JudgmentMode } from './bench-files';
import type { JudgeApi } from './judge-api';
import { checkPlanData, matchKey, pairRecordKey, planMatches, singleRecordKey, type Match, type PlanInput } from './judgment-plan';
import { pairRecord, pairRequest, singleRecord, singleRequest } from './judgment-record';
import { JsonlAppender, readJsonl, repairForAppend } from './jsonl';
import { pairJudgmentLine, singleJudgmentLine, toPairJudgment, toSingleJudgment, type ModelAnswer } from './records';
import { followSignal, runPool } from './task-pool';

export interface GenJudgmentOptions {
  mode: JudgmentMode;
  judgeModel: string;
  baselineModel: string;
  /** Models to judge; undefined = every answer file in answerDir. */
  models?: string[];
  questionFile: string;
  answerDir: string;
  /** Reference answers (needed when any question is in NEED_REF_CATS). */
  referenceFile?: string;
  outputFile: string;
  /** Called after each judgment is written, with the number written so far in this run. */
  onWritten?: (count: number) => void;
  /** Only the first n questions (FastChat's --first-n). */
  firstN?: number;
  parallel: number;
  judge: JudgeApi;
  logger: Logger;
  signal?: AbortSignal;
}

export interface GenJudgmentSummary {
  matches: number;
  alreadyJudged: number;
  judged: number;
  failed: number;
  notStarted: number;
  outputFile: string;
}

function planInput(o: GenJudgmentOptions): PlanInput {
  const questions = loadQuestions(o.questionFile).slice(0, o.firstN);
  const models = o.models ?? listAnswerModels(o.answerDir);
  const least = o.mode === 'pairwise-all' ? 2 : 1;
  if (models.filter((m) => o.mode !== 'pairwise-baseline' || m !== o.baselineModel).length < least) {
    throw new FleetError('invalid_request', `${o.mode} needs at least ${least} model(s) to judge${o.mode === 'pairwise-baseline' ? ' besides the baseline' : ''}; found ${JSON.stringify(models)} (answers in ${o.answerDir})`, { param: 'model_list' });
  }
  const needed = o.mode === 'pairwise-baseline' ? [...new Set([...models, o.baselineModel])] : models;
  const answers = new Map<string, Map<string, ModelAnswer>>();
  for (const m of needed) {
    const file = loadAnswerFile(answerFileOf(o.answerDir, m), o.logger, true);
    if (file.size > 0) answers.set(m, file);
  }
  const references = o.referenceFile ? loadAnswerFile(o.referenceFile, o.logger, true) : new Map<string, ModelAnswer>();
  return { mode: o.mode, questions, models, baselineModel: o.baselineModel, answers, references };
}

/** Keys of the judgments already in the output file (after repairing an interrupted last line). */
function loadDone(o: GenJudgmentOptions): Set<string> {
  const file = readJsonl(o.outputFile, true);
  if (file.incompleteTail) o.logger.warn({ path: o.outputFile, line: file.incompleteTail.lineNo }, 'removing an incomplete last line (interrupted write); that judgment is redone');
  repairForAppend(file);
  const where = (n: number): string => `${o.outputFile}:${n}`;
  return new Set(
    file.lines.map((l) => (o.mode === 'single' ? singleRecordKey(toSingleJudgment(l.value, where(l.lineNo))) : pairRecordKey(toPairJudgment(l.value, where(l.lineNo))))),
  );
}

async function judgeMatch(m: Match, o: GenJudgmentOptions, signal: AbortSignal): Promise<string> {
  if (m.kind === 'single') {
    const response = await o.judge.gradeSingle(singleRequest(m, o.judgeModel), signal);
    return singleJudgmentLine(singleRecord(m, o.judgeModel, response, Date.now() / 1000));
  }
  const response = await o.judge.comparePair(pairRequest(m, o.judgeModel), signal);
  return pairJudgmentLine(pairRecord(m, o.judgeModel, response, Date.now() / 1000));
}

function describe(m: Match): Record<string, unknown> {
  const models = m.kind === 'single' ? { model: m.model } : { model_1: m.model1, model_2: m.model2 };
  return { question_id: m.question.question_id, turn: m.turn, prompt: m.promptName, ...models };
}

export async function genJudgments(o: GenJudgmentOptions): Promise<GenJudgmentSummary> {
  const input = planInput(o);
  checkPlanData(input, o.referenceFile ?? '(no reference file)');
  const matches = planMatches(input);
  const done = loadDone(o);
  const todo = matches.filter((m) => !done.has(matchKey(m, o.judgeModel)));
  o.logger.info(
    { mode: o.mode, judge: o.judgeModel, baseline: o.mode === 'pairwise-baseline' ? o.baselineModel : null, models: input.models, questions: input.questions.length, matches: matches.length, alreadyJudged: matches.length - todo.length, output: o.outputFile },
    'judging',
  );
  const out = new JsonlAppender(o.outputFile);
  const { signal, release } = followSignal(o.signal);
  const pool = await runPool(
    todo,
    async (m) => {
      await out.append(await judgeMatch(m, o, signal));
      o.logger.info(describe(m), 'judged');
      o.onWritten?.(out.written);
    },
    { parallel: o.parallel, signal, onError: (m, err) => o.logger.error({ ...describe(m), err: (err as Error).message }, 'judgment failed; rerun to retry') },
  ).finally(release);
  return { matches: matches.length, alreadyJudged: matches.length - todo.length, judged: pool.done, failed: pool.failed, notStarted: pool.notStarted, outputFile: o.outputFile };
}
