/**
 * get-stats for one record (FastChat's get_stats.py): rounds are (turn 2i, turn 2i+1); lengths are counted in
 * tokens of the given tokenizer, or in characters (code points) without one.
 */
import { droppedResult, type RecordResult, type RecordStats } from '../record-result';
import { checkShareGpt, recordLabel } from '../sharegpt';

/** Length of one turn's text: token count, or characters. */
export type LengthFn = (text: string) => number;

export function characterLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function statsOf(turns: ReadonlyArray<{ from: string; value: string }>, length: LengthFn): RecordStats {
  const rounds = Math.floor(turns.length / 2);
  const promptLengths: number[] = [];
  const responseLengths: number[] = [];
  for (let i = 0; i < rounds; i++) {
    promptLengths.push(length(turns[2 * i].value));
    responseLengths.push(length(turns[2 * i + 1].value));
  }
  const sampleLength = promptLengths.reduce((a, b) => a + b, 0) + responseLengths.reduce((a, b) => a + b, 0);
  return { turns: rounds, promptLengths, responseLengths, sampleLength, roles: turns.map((t) => t.from) };
}

export function statsRecord(value: unknown, index: number, length: LengthFn): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  return { index, id, outputs: [], events: [], stats: statsOf(checked.record.conversations, length) };
}
