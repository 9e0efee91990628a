/**
 * clean-sharegpt for one record (runs in worker threads): shape check, FastChat's cleaning rules, and the
 * content hash the sequential finisher deduplicates on.
 */
import { createHash } from 'node:crypto';
import { serializeRecord, type OutputFormat } from '../../io/record-format';
import { droppedResult, type RecordResult } from '../record-result';
import { checkShareGpt, recordLabel } from '../sharegpt';
import { cleanConversation, type CleanOptions } from './clean-sample';

/** 128-bit content hash of the first round (FastChat dedups on the first human and first gpt value). */
export function firstRoundKey(first: string, second: string): string {
  return createHash('sha256').update(JSON.stringify([first, second])).digest('base64url').slice(0, 22);
}

export function cleanRecord(value: unknown, index: number, options: CleanOptions, format: OutputFormat): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  const { record } = checked;
  const outcome = cleanConversation(record.conversations, options);
  if (outcome.kind === 'dropped') return droppedResult(index, id, outcome.reason, outcome.detail);
  const cleaned = { ...record, conversations: outcome.conversations };
  const [first, second] = outcome.conversations;
  return {
    index, id,
    outputs: [serializeRecord(cleaned, format)],
    events: outcome.changes,
    dedup: { key: firstRoundKey(first.value, second.value), hasPlugins: record.plugins !== undefined && record.plugins !== null },
  };
}
