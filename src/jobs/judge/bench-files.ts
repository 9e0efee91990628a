/**
 * FastChat's benchmark layout (`data/<bench>/question.jsonl`, `model_answer/<model>.jsonl`,
 * `reference_answer/<judge>.jsonl`, `model_judgment/<judge>_{single,pair}.jsonl`): default paths,
 * fallbacks to the bundled MT-bench copy, and loaders that validate every record.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { builtinBenchFile } from './data-paths';
import { readJsonl } from './jsonl';
import { qidKey, toModelAnswer, toQuestion, type ModelAnswer, type Question } from './records';

export type JudgmentMode = 'single' | 'pairwise-baseline' | 'pairwise-all';

/** `<bench-dir>/question.jsonl`, else the bundled copy for the bench name. */
export function resolveQuestionFile(benchDir: string, benchName: string, explicit?: string): string {
  if (explicit) return explicit;
  const local = join(benchDir, 'question.jsonl');
  if (existsSync(local)) return local;
  const bundled = builtinBenchFile(benchName, 'question.jsonl');
  if (bundled) return bundled;
  throw new FleetError('not_found', `no question file: ${local} does not exist and '${benchName}' is not bundled (pass --question-file)`);
}

/** The judge's own reference answers if present, else GPT-4's (FastChat's), local before bundled; undefined if none. */
export function resolveReferenceFile(benchDir: string, benchName: string, judgeModel: string, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const candidates = [join(benchDir, 'reference_answer', `${judgeModel}.jsonl`), join(benchDir, 'reference_answer', 'gpt-4.jsonl')];
  return candidates.find((p) => existsSync(p)) ?? builtinBenchFile(benchName, join('reference_answer', 'gpt-4.jsonl'));
}

export function judgmentFile(benchDir: string, mode: JudgmentMode, judgeModel: string): string {
  return join(benchDir, 'model_judgment', `${judgeModel}_${mode === 'single' ? 'single' : 'pair'}.jsonl`);
}

/** Python's `list[begin:end]` (negative indices count from the end). */
export function pythonSlice<T>(items: readonly T[], begin?: number, end?: number): T[] {
  const clamp = (i: number): number => (i < 0 ? Math.max(items.length + i, 0) : Math.min(i, items.length));
  return items.slice(begin === undefined ? 0 : clamp(begin), end === undefined ? items.length : clamp(end));
}

export function loadQuestions(path: string, begin?: number, end?: number): Question[] {
  const file = readJsonl(path);
  if (file.incompleteTail) throw new FleetError('invalid_request', `${path}:${file.incompleteTail.lineNo}: not valid JSON`);
  const seen = new Set<string>();
  const questions = file.lines.map((line) => {
    const q = toQuestion(line.value, `${path}:${line.lineNo}`);
    if (seen.has(qidKey(q.question_id))) throw new FleetError('invalid_request', `${path}:${line.lineNo}: duplicate question_id ${q.question_id}`);
    seen.add(qidKey(q.question_id));
    return q;
  });
  return pythonSlice(questions, begin, end);
}

/** One answer per question id; a later line replaces an earlier one (FastChat's dict). */
export function loadAnswerFile(path: string, logger: Logger, allowMissing = false): Map<string, ModelAnswer> {
  const file = readJsonl(path, allowMissing);
  if (file.incompleteTail) logger.warn({ path, line: file.incompleteTail.lineNo }, 'ignoring an incomplete last line (interrupted write)');
  const answers = new Map<string, ModelAnswer>();
  for (const line of file.lines) {
    const answer = toModelAnswer(line.value, `${path}:${line.lineNo}`);
    answers.set(qidKey(answer.question_id), answer);
  }
  return answers;
}

/** Model names = answer file names without `.jsonl`, sorted. */
export function listAnswerModels(answerDir: string): string[] {
  if (!existsSync(answerDir)) throw new FleetError('not_found', `answer directory not found: ${answerDir}`);
  return readdirSync(answerDir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => basename(f, '.jsonl'))
    .sort();
}

export function answerFileOf(answerDir: string, model: string): string {
  return join(answerDir, `${model}.jsonl`);
}
