/**
 * optional-clean (FastChat's optional_clean.py): keep only one language (`--keep-lang`), or drop one
 * (`--skip-lang`), detected on all turns joined by newlines; optionally drop conversations with a digit
 * repeated 9 times (`--reduce-rep`). FastChat uses polyglot (Google's CLD2); here Google's CLD3 compiled to
 * WebAssembly (cld3-asm). As in polyglot, an unreliable detection counts as language "unknown".
 */
import { loadModule } from 'cld3-asm';
import { serializeRecord, type OutputFormat } from '../../io/record-format';
import { droppedResult, type RecordResult } from '../record-result';
import { checkShareGpt, recordLabel } from '../sharegpt';

export interface LanguageOptions {
  /** A language code to keep, or `all`. */
  keepLang: string;
  /** A language code to drop. */
  skipLang?: string;
  reduceRep: boolean;
  /** Bytes of text the detector reads (from the start of the conversation). */
  sampleBytes: number;
}

export type LanguageDetector = (text: string) => string;

const REPEATED_DIGIT = /(\d)\1{8}/;

/** CLD3 language detection; `unknown` for text without letters or an unreliable guess. */
export async function createLanguageDetector(sampleBytes: number): Promise<LanguageDetector> {
  const factory = await loadModule();
  const identifier = factory.create(0, sampleBytes);
  return (text) => {
    if (!/\p{L}/u.test(text)) return 'unknown';
    const result = identifier.findLanguage(text);
    const code = String(result.language);
    return result.is_reliable && code !== 'und' ? code : 'unknown';
  };
}

export function languageFilter(detect: LanguageDetector, options: LanguageOptions) {
  const needLanguage = options.keepLang !== 'all' || options.skipLang !== undefined;
  return (value: unknown, index: number, format: OutputFormat): RecordResult => {
    const id = recordLabel(value, index);
    const checked = checkShareGpt(value);
    if (!checked.ok) return droppedResult(index, id, 'invalid_format', checked.detail);
    const turns = checked.record.conversations;
    if (needLanguage) {
      const lang = detect(turns.map((t) => t.value).join('\n'));
      if (options.keepLang !== 'all' && lang !== options.keepLang) return droppedResult(index, id, 'language_not_kept', `detected ${lang}`);
      if (lang === options.skipLang) return droppedResult(index, id, 'language_skipped', `detected ${lang}`);
    }
    if (options.reduceRep) {
      const bad = turns.findIndex((t) => REPEATED_DIGIT.test(t.value));
      if (bad >= 0) return droppedResult(index, id, 'repetitive_digits', `turn ${bad} repeats a digit 9 times`);
    }
    return { index, id, outputs: [serializeRecord(value, format)], events: [] };
  };
}
