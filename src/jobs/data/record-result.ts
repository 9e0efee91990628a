/**
 * What a record task answers for one input record: the serialized records to write (none when it is dropped,
 * several when it is split), the drop/change events for the report, and data for the job's sequential finisher
 * (dedup keys, statistics). Results are plain data so they cross worker-thread boundaries unchanged.
 */
import type { RecordAction } from '../io/report';

export interface ResultEvent {
  action: RecordAction;
  reason: string;
  detail?: string;
}

/** Per-record numbers for get-stats (lengths in characters, or in tokens when a tokenizer is given). */
export interface RecordStats {
  turns: number;
  promptLengths: number[];
  responseLengths: number[];
  /** Sum of prompt and response lengths of the complete rounds. */
  sampleLength: number;
  roles: string[];
}

export interface RecordResult {
  index: number;
  id: string;
  outputs: string[];
  /** Records for the job's second output file (prepare-sft's messages JSONL). */
  extraOutputs?: string[];
  events: ResultEvent[];
  /** Dedup data for clean-sharegpt's finisher. */
  dedup?: { key: string; hasPlugins: boolean };
  stats?: RecordStats;
}

export function droppedResult(index: number, id: string, reason: string, detail?: string): RecordResult {
  return { index, id, outputs: [], events: [{ action: 'dropped', reason, ...(detail === undefined ? {} : { detail }) }] };
}

export function isDropped(result: RecordResult): boolean {
  return result.events.some((e) => e.action === 'dropped');
}
