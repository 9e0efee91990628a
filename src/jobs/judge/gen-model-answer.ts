/**
 * `fleetchat jobs gen-model-answer`: answers a question file (MT-bench format) with one or more models
 * through an OpenAI-compatible endpoint, turn by turn in one conversation, `num_choices` times, and
 * appends FastChat's answer records to `model_answer/<model>.jsonl`. Resumable: answered questions
 * are skipped; the file is re-sorted and de-duplicated at the end (FastChat's reorg).
 */
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ChatClient, ChatMessage } from '../openai-client/chat-client';
import { reorgAnswerFile } from './answer-reorg';
import { planAnswerTasks, systemMessageFor, type AnswerTask, type ModelSpec } from './answer-plan';
import { answerFileOf, loadQuestions } from './bench-files';
import { JsonlAppender, readJsonl, repairForAppend } from './jsonl';
import { answerLine, qidKey, toModelAnswer, type AnswerChoice } from './records';
import { shortUuid } from './short-uuid';
import { followSignal, runPool } from './task-pool';

export interface GenModelAnswerOptions {
  questionFile: string;
  /** Python slice bounds over the question list. */
  questionBegin?: number;
  questionEnd?: number;
  models: ModelSpec[];
  answerDir: string;
  /** Explicit output file (one model only). */
  answerFile?: string;
  numChoices: number;
  maxTokens: number;
  forceTemperature?: number;
  /** `auto`, '' (none) or the system message text. */
  systemMessage: string;
  parallel: number;
  chat: ChatClient;
  logger: Logger;
  signal?: AbortSignal;
}

export interface GenModelAnswerSummary {
  questions: number;
  alreadyAnswered: number;
  answered: number;
  failed: number;
  notStarted: number;
  files: string[];
}

/** Existing answers per model id (after repairing an interrupted last line). */
function loadAnswered(files: ReadonlyMap<string, string>, logger: Logger): Map<string, Set<string>> {
  const answered = new Map<string, Set<string>>();
  for (const [modelId, path] of files) {
    const file = readJsonl(path, true);
    if (file.incompleteTail) logger.warn({ path, line: file.incompleteTail.lineNo }, 'removing an incomplete last line (interrupted write); that question is answered again');
    repairForAppend(file);
    answered.set(modelId, new Set(file.lines.map((l) => qidKey(toModelAnswer(l.value, `${path}:${l.lineNo}`).question_id))));
  }
  return answered;
}

async function answerTask(task: AnswerTask, o: GenModelAnswerOptions, signal: AbortSignal): Promise<AnswerChoice[]> {
  const choices: AnswerChoice[] = [];
  const system = systemMessageFor(o.systemMessage, task.model.name);
  for (let index = 0; index < o.numChoices; index += 1) {
    const messages: ChatMessage[] = system === '' ? [] : [{ role: 'system', content: system }];
    const turns: string[] = [];
    for (const userTurn of task.question.turns) {
      messages.push({ role: 'user', content: userTurn });
      const output = await o.chat.complete({ model: task.model.name, messages: [...messages], temperature: task.temperature, maxTokens: o.maxTokens, signal });
      messages.push({ role: 'assistant', content: output });
      turns.push(output);
    }
    choices.push({ index, turns });
  }
  return choices;
}

export async function genModelAnswers(o: GenModelAnswerOptions): Promise<GenModelAnswerSummary> {
  if (o.answerFile !== undefined && o.models.length !== 1) {
    throw new FleetError('invalid_request', '--answer-file can only be used with one model', { param: 'answer_file' });
  }
  const questions = loadQuestions(o.questionFile, o.questionBegin, o.questionEnd);
  const files = new Map(o.models.map((m) => [m.id, o.answerFile ?? answerFileOf(o.answerDir, m.id)]));
  const tasks = planAnswerTasks(questions, o.models, loadAnswered(files, o.logger), o.forceTemperature);
  const appenders = new Map([...files].map(([id, path]) => [id, new JsonlAppender(path)]));
  const total = questions.length * o.models.length;
  o.logger.info({ questions: questions.length, models: o.models.map((m) => m.id), toAnswer: tasks.length, alreadyAnswered: total - tasks.length }, 'generating model answers');
  const { signal, release } = followSignal(o.signal);
  const pool = await runPool(
    tasks,
    async (task) => {
      const choices = await answerTask(task, o, signal);
      const line = answerLine({ question_id: task.question.question_id, answer_id: shortUuid(), model_id: task.model.id, choices, tstamp: Date.now() / 1000 });
      await appenders.get(task.model.id)?.append(line);
      o.logger.info({ model: task.model.id, question_id: task.question.question_id }, 'answered');
    },
    {
      parallel: o.parallel,
      signal,
      onError: (task, err) => o.logger.error({ model: task.model.id, question_id: task.question.question_id, err: (err as Error).message }, 'answer failed; rerun to retry'),
    },
  ).finally(release);
  for (const path of files.values()) await reorgAnswerFile(path);
  return { questions: questions.length, alreadyAnswered: total - tasks.length, answered: pool.done, failed: pool.failed, notStarted: pool.notStarted, files: [...files.values()] };
}
