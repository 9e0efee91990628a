/**
 * `fleetchat jobs show-result`: reads a judgment file (ours or FastChat's) and gives FastChat's tables,
 * a per-category table, an optional SVG chart and, with --json, just the numbers:
 * `{"mode", "models": [{"model", "turn1", "turn2", "average"}]}` or, pairwise,
 * `{"mode", "models": [{"model", "win", "loss", "tie", "win_rate", "loss_rate", "win_rate_adjusted"}]}`.
 */
import type { Logger } from '../../common/log';
import type { JudgmentMode } from './bench-files';
import { loadQuestions } from './bench-files';
import { readJsonl, type JsonlFile } from './jsonl';
import { qidKey, toPairJudgment, toSingleJudgment, type QuestionId } from './records';
import { renderCategoryChartSvg } from './result-chart';
import {
  computePairwise, computeSingle, pairExclusions, pairwiseByCategory, singleByCategory, singleExclusions, type CategoryTable, type Exclusions, type PairRow, type SingleRow,
} from './result-compute';
import { renderCategories, renderPairwise, renderSingle } from './result-render';

export interface ShowResultOptions {
  mode: JudgmentMode;
  inputFile: string;
  baselineModel: string;
  modelList?: string[];
  /** For the per-category table and chart; undefined = no category breakdown. */
  questionFile?: string;
  logger: Logger;
}

export type ResultJson =
  | { mode: 'single'; models: SingleRow[] }
  | { mode: 'pairwise-baseline' | 'pairwise-all'; models: PairRow[] };

export interface ShowResultOutput {
  text: string;
  json: ResultJson;
  /** Present when a question file gave the categories. */
  svg?: string;
}

interface Categories {
  of: (id: QuestionId) => string;
  order: string[];
}

function loadCategories(questionFile: string | undefined): Categories | undefined {
  if (!questionFile) return undefined;
  const questions = loadQuestions(questionFile);
  const byId = new Map(questions.map((q) => [qidKey(q.question_id), q.category]));
  return { of: (id) => byId.get(qidKey(id)) ?? 'unknown', order: [...new Set(questions.map((q) => q.category))] };
}

function readJudgments(o: ShowResultOptions): JsonlFile {
  const file = readJsonl(o.inputFile);
  if (file.incompleteTail) o.logger.warn({ path: o.inputFile, line: file.incompleteTail.lineNo }, 'ignoring an incomplete last line (interrupted write)');
  return file;
}

function withCategories(text: string, table: CategoryTable | undefined, models: string[], what: string, chart: { title: string; maxValue: number }): { text: string; svg?: string } {
  if (!table) return { text: `${text}\n\n(no question file: per-category table skipped)\n` };
  return {
    text: `${text}\n${renderCategories(table, models, what)}\n`,
    svg: renderCategoryChartSvg(table, { ...chart, models }),
  };
}

/** The line saying how many judgments the tables leave out (FastChat drops them silently). */
function exclusionLine(e: Exclusions, noun: string, why: string): string {
  return `${noun}: ${e.selected}, excluded as unparseable (${why}): ${e.excluded}\n`;
}

export function showResult(o: ShowResultOptions): ShowResultOutput {
  const file = readJudgments(o);
  const where = (n: number): string => `${o.inputFile}:${n}`;
  const categories = loadCategories(o.questionFile);
  const header = `Mode: ${o.mode}\nInput file: ${o.inputFile}\n`;
  if (o.mode === 'single') {
    const records = file.lines.map((l) => toSingleJudgment(l.value, where(l.lineNo)));
    const rows = computeSingle(records, o.modelList);
    const table = categories && singleByCategory(records, categories.of, categories.order, o.modelList);
    const excluded = exclusionLine(singleExclusions(records, o.modelList), 'Judgments', 'score -1');
    const out = withCategories(header + excluded + renderSingle(rows), table, rows.map((r) => r.model), 'mean score', { title: 'Score per category', maxValue: 10 });
    return { ...out, json: { mode: 'single', models: rows } };
  }
  const baseline = o.mode === 'pairwise-baseline' ? o.baselineModel : undefined;
  const records = file.lines.map((l) => toPairJudgment(l.value, where(l.lineNo)));
  const rows = computePairwise(records, o.modelList, baseline);
  const table = categories && pairwiseByCategory(records, categories.of, categories.order, o.modelList, baseline);
  const excluded = exclusionLine(pairExclusions(records, o.modelList, baseline), 'Pairs', "g1_winner or g2_winner 'error'");
  const out = withCategories(header + excluded + renderPairwise(rows), table, rows.map((r) => r.model), 'win_rate_adjusted', { title: 'Adjusted win rate per category', maxValue: 1 });
  return { ...out, json: { mode: o.mode, models: rows } };
}
