/**
 * The small record filters of FastChat's data scripts, one function per script:
 * filter_wrong_format.py, extract_single_round.py, extract_gpt4_only.py, sample.py's length limit, and a
 * pass-through (merge.py).
 */
import { serializeRecord, type OutputFormat } from '../../io/record-format';
import { droppedResult, type RecordResult } from '../record-result';
import { checkShareGpt, recordLabel } from '../sharegpt';

/** A list restarting at "1." with no "2" in between (https://sharegpt.com/c/1pREAGO). */
const WRONG_INDICES = /\n1\. [^2]*\n1\. /;

function kept(index: number, id: string, value: unknown, format: OutputFormat): RecordResult {
  return { index, id, outputs: [serializeRecord(value, format)], events: [] };
}

export function filterWrongFormat(value: unknown, index: number, format: OutputFormat): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  const bad = checked.record.conversations.findIndex((t) => WRONG_INDICES.test(t.value));
  if (bad >= 0) return droppedResult(index, id, 'wrong_list_indices', `turn ${bad} restarts a numbered list at 1.`);
  return kept(index, id, value, format);
}

export function extractSingleRound(value: unknown, index: number, format: OutputFormat): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  const { record } = checked;
  if (record.conversations.length <= 2) return kept(index, id, record, format);
  const result = kept(index, id, { ...record, conversations: record.conversations.slice(0, 2) }, format);
  result.events.push({ action: 'changed', reason: 'truncated_to_first_round', detail: `${record.conversations.length} turns → 2` });
  return result;
}

export function extractGpt4Only(value: unknown, index: number, format: OutputFormat): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  const model = checked.record.model;
  if (model === undefined || model === null || model === 'gpt4') return kept(index, id, value, format);
  return droppedResult(index, id, 'not_gpt4', `model is ${JSON.stringify(model)}`);
}

/** merge: every record as it is (re-serialized in the output format). */
export function passThrough(value: unknown, index: number, format: OutputFormat): RecordResult {
  return kept(index, recordLabel(value, index), value, format);
}

/** sample.py: conversations whose turns add up to more than `maxChars` characters are left out. */
export function sampleFilter(value: unknown, index: number, maxChars: number, format: OutputFormat): RecordResult {
  const id = recordLabel(value, index);
  const checked = checkShareGpt(value);
  if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
  let chars = 0;
  for (const turn of checked.record.conversations) {
    for (const _ of turn.value) chars++;
  }
  if (chars > maxChars) return droppedResult(index, id, 'too_long', `${chars} characters > --max-length ${maxChars}`);
  return kept(index, id, value, format);
}
