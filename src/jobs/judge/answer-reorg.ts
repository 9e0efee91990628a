/**
 * FastChat's reorg_answer_file: one line per question id (the last one written wins), sorted by
 * question id; lines are kept byte for byte. Written whole or not at all (an exclusive temporary file, fsync, rename:
 * atomic-file.ts).
 */
import { writeFileAtomically } from '../io/atomic-file';
import { readJsonl } from './jsonl';
import type { QuestionId } from './records';
import { qidKey } from './records';

function compareIds(a: QuestionId, b: QuestionId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Returns how many duplicate lines were removed. */
export async function reorgAnswerFile(path: string): Promise<number> {
  const file = readJsonl(path, true);
  const byId = new Map<string, { id: QuestionId; raw: string }>();
  for (const line of file.lines) {
    const id = (line.value as { question_id: QuestionId }).question_id;
    byId.set(qidKey(id), { id, raw: line.raw });
  }
  if (file.lines.length === 0) return 0;
  const sorted = [...byId.values()].sort((x, y) => compareIds(x.id, y.id));
  await writeFileAtomically(path, sorted.map((e) => `${e.raw}\n`).join(''));
  return file.lines.length - sorted.length;
}
