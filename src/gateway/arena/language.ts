/**
 * The language of a battle (FastChat's `language` field, e.g. `English`): Google's CLD3 (cld3-asm, WebAssembly) on
 * the first user message, named in English by `Intl.DisplayNames`. Short texts and unreliable guesses are
 * `unknown`, as FastChat does when polyglot cannot decide. The detector loads once, on first use.
 */
import { loadModule } from 'cld3-asm';

export type LanguageOf = (text: string) => Promise<string>;

const MIN_BYTES = 16;
const MAX_BYTES = 2000;

export function createLanguageDetector(): LanguageOf {
  let identifier: Promise<(text: string) => string> | undefined;
  const names = new Intl.DisplayNames(['en'], { type: 'language' });
  const load = async (): Promise<(text: string) => string> => {
    const cld = (await loadModule()).create(MIN_BYTES, MAX_BYTES);
    return (text) => {
      const result = cld.findLanguage(text);
      const code = String(result.language);
      if (!result.is_reliable || code === 'und') return 'unknown';
      return names.of(code) ?? 'unknown';
    };
  };
  return async (text) => {
    if (!/\p{L}/u.test(text)) return 'unknown';
    identifier ??= load();
    try {
      return (await identifier)(text);
    } catch {
      return 'unknown';
    }
  };
}
