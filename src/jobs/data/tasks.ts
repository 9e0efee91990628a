/**
 * The record tasks a data job can run, by name, with their options as plain data: the same spec builds the
 * handler on the main thread (`--threads 0`) or inside each worker thread (worker-main.ts). A handler turns
 * one record's bytes into a RecordResult and never throws: undecodable bytes, a wrong shape or an unexpected
 * exception become a dropped result with a reason.
 */
import type { OutputFormat } from '../io/record-format';
import { decodeRecord } from '../io/record-decode';
import { cleanRecord } from './clean/clean-task';
import type { CleanOptions } from './clean/clean-sample';
import { extractGpt4Only, extractSingleRound, filterWrongFormat, passThrough, sampleFilter } from './filters/format-filters';
import { createLanguageDetector, languageFilter, type LanguageOptions } from './filters/language-filter';
import { droppedResult, type RecordResult } from './record-result';
import { recordLabel } from './sharegpt';
import { prepareSftRecord, type SftOptions } from './sft/prepare-sft-task';
import { splitRecord, type SplitOptions } from './split/split-task';
import { characterLength, statsRecord } from './stats/stats-task';
import { loadChatContext, type ChatContextOptions } from './tokenize/chat-context';

export type TaskSpec =
  | { task: 'clean-sharegpt'; format: OutputFormat; options: CleanOptions }
  | { task: 'optional-clean'; format: OutputFormat; options: LanguageOptions }
  | { task: 'filter-wrong-format'; format: OutputFormat }
  | { task: 'extract-single-round'; format: OutputFormat }
  | { task: 'extract-gpt4-only'; format: OutputFormat }
  | { task: 'pass-through'; format: OutputFormat }
  | { task: 'sample'; format: OutputFormat; maxChars: number }
  | { task: 'get-stats'; chat?: ChatContextOptions }
  | { task: 'split-long'; format: OutputFormat; chat: ChatContextOptions; options: SplitOptions }
  | { task: 'prepare-sft'; chat: ChatContextOptions; options: SftOptions };

/** Handles a parsed record. */
type ValueHandler = (value: unknown, index: number) => RecordResult;

/** Handles a record's raw bytes. */
export type BytesHandler = (index: number, bytes: Uint8Array) => RecordResult;

async function valueHandler(spec: TaskSpec): Promise<ValueHandler> {
  switch (spec.task) {
    case 'clean-sharegpt':
      return (value, index) => cleanRecord(value, index, spec.options, spec.format);
    case 'optional-clean': {
      const filter = languageFilter(await createLanguageDetector(spec.options.sampleBytes), spec.options);
      return (value, index) => filter(value, index, spec.format);
    }
    case 'filter-wrong-format':
      return (value, index) => filterWrongFormat(value, index, spec.format);
    case 'extract-single-round':
      return (value, index) => extractSingleRound(value, index, spec.format);
    case 'extract-gpt4-only':
      return (value, index) => extractGpt4Only(value, index, spec.format);
    case 'pass-through':
      return (value, index) => passThrough(value, index, spec.format);
    case 'sample':
      return (value, index) => sampleFilter(value, index, spec.maxChars, spec.format);
    case 'get-stats': {
      if (!spec.chat) return (value, index) => statsRecord(value, index, characterLength);
      const { tokenizer } = await loadChatContext(spec.chat);
      return (value, index) => statsRecord(value, index, (text) => tokenizer.encode(text).length);
    }
    case 'split-long': {
      const ctx = await loadChatContext(spec.chat);
      return (value, index) => splitRecord(value, index, ctx, spec.options, spec.format);
    }
    case 'prepare-sft': {
      const ctx = await loadChatContext(spec.chat);
      return (value, index) => prepareSftRecord(value, index, ctx, spec.options);
    }
  }
}

export async function createBytesHandler(spec: TaskSpec): Promise<BytesHandler> {
  const handle = await valueHandler(spec);
  return (index, bytes) => {
    const decoded = decodeRecord(bytes);
    if (!decoded.ok) return droppedResult(index, `#${index}`, decoded.reason, decoded.message);
    try {
      const result = handle(decoded.value, index);
      if (decoded.invalidUtf8) result.events.unshift({ action: 'changed', reason: 'invalid_utf8_replaced', detail: 'invalid UTF-8 bytes became U+FFFD' });
      return result;
    } catch (err) {
      return droppedResult(index, recordLabel(decoded.value, index), 'internal_error', err instanceof Error ? err.message.slice(0, 200) : String(err));
    }
  };
}
