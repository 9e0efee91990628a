/**
 * Exhaustive grammar checks over a character vocabulary: every string a compiled grammar accepts up to `maxLen`
 * characters (token t is `vocab[t]`, token `vocab.length` is the stop token the grammar was compiled with).
 */
import type { CompiledGrammar } from '@mlc-ai/web-xgrammar';
import { xgrammar } from '../../src/worker/grammar/xgrammar';

/** Every accepted string, in walk order; `leak` is set when a longer one is possible. */
export async function enumerateGrammar(grammar: CompiledGrammar, vocab: readonly string[], maxLen: number): Promise<{ strings: string[]; leak?: string }> {
  const stop = vocab.length;
  const m = await xgrammar().GrammarMatcher.createGrammarMatcher(grammar, [stop], false, maxLen + 1);
  const strings: string[] = [];
  let leak: string | undefined;
  const walk = async (prefix: string): Promise<void> => {
    const mask = await m.getNextTokenBitmask();
    for (let t = 0; t <= stop; t++) {
      if (((mask[t >> 5] >>> (t & 31)) & 1) === 0) continue;
      if (t === stop) strings.push(prefix);
      else if (prefix.length >= maxLen) leak = prefix + vocab[t];
      else {
        expect(m.acceptToken(t)).toBe(true); // the matcher takes what its own mask allowed
        await walk(prefix + vocab[t]);
        m.rollBack(1);
      }
    }
  };
  await walk('');
  m.dispose();
  return { strings, leak };
}
