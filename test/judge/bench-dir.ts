/** A scratch copy of test/fixtures/judge/mini-bench (question.jsonl, model_answer/, reference_answer/) per test. */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JudgeTexts } from './fake-openai-server';

export const FIXTURES = join(__dirname, '../fixtures/judge');

export function judgeTexts(): JudgeTexts {
  return JSON.parse(readFileSync(join(FIXTURES, 'judge-texts.json'), 'utf8')) as JudgeTexts;
}

export function scratchBench(): { dir: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'fleetchat-judge-'));
  const dir = join(root, 'mini_bench');
  cpSync(join(FIXTURES, 'mini-bench'), dir, { recursive: true });
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** The records of a JSONL file; a file not written yet has none. */
export function readLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
