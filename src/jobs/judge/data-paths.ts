/**
 * Where the data shipped with fleetchat lives (FastChat's judge prompts, MT-bench questions and GPT-4
 * reference answers, Apache-2.0, see data/LICENSE). Compiled code runs from dist/src/jobs/judge, where
 * tsc copies no data files, so the source tree's copy is the fallback.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

function builtinDataDir(): string {
  const candidates = [join(__dirname, 'data'), resolve(__dirname, '../../../../src/jobs/judge/data')];
  return candidates.find((dir) => existsSync(join(dir, 'judge_prompts.jsonl'))) ?? candidates[0];
}

export const BUILTIN_DATA_DIR = builtinDataDir();
export const BUILTIN_JUDGE_PROMPTS = join(BUILTIN_DATA_DIR, 'judge_prompts.jsonl');

/** The bundled copy of a benchmark's file (`question.jsonl`, `reference_answer/gpt-4.jsonl`), if shipped. */
export function builtinBenchFile(benchName: string, relative: string): string | undefined {
  const path = join(BUILTIN_DATA_DIR, benchName, relative);
  return existsSync(path) ? path : undefined;
}
