/**
 * Grammar-constrained decoding for one worker: xgrammar's tokenizer info (built on first use from the model's
 * vocabulary), a compile cache bounded by entries (least recently used goes first; one worker has one tokenizer,
 * so the key is the grammar alone), and a matcher per request wrapped as the engine's TokenConstraint.
 */
import { FleetError } from '../../common/errors';
import type { TokenConstraint } from '../engine/constraint';
import type { CompiledGrammar, GrammarSource } from './sources';
import { xgrammar } from './xgrammar';
import type { GrammarCompiler as Compiler, GrammarMatcher as Matcher } from '@mlc-ai/web-xgrammar';

/** The vocabulary as xgrammar wants it. */
export interface GrammarVocab {
  /** Every token's raw vocabulary string (as in tokenizer.json); "" for special tokens, which grammars never allow. */
  encodedVocab: string[];
  /** byte_level (GPT-2-style byte-level BPE), byte_fallback (SentencePiece with <0xNN>), or raw. */
  vocabType: 'byte_level' | 'byte_fallback' | 'raw';
  /** The model's vocabulary size (logits width; may exceed the tokenizer's). */
  vocabSize: number;
  stopTokenIds: number[];
}

export interface GrammarsOptions {
  /** Compiled grammars kept (default 64). */
  cacheEntries?: number;
}

/**
 * Sets to -Infinity every logit whose bit is clear in an xgrammar-style bitmask (bit i of word i >> 5 = token i
 * allowed). Whole words go at once (all allowed: skipped; runs of none allowed: one fill); in a mixed word only the clear bits are
 * visited (lowest first, `x & -x`), so the cost follows the disallowed tokens of mixed words, not 32 per word.
 */
function applyTokenBitmask(logits: Float32Array, mask: Int32Array): void {
  const n = logits.length;
  const words = Math.min(mask.length, (n + 31) >>> 5);
  for (let w = 0; w < words; w++) {
    const word = mask[w];
    if (word === -1) continue; // all 32 allowed
    const base = w << 5;
    if (word === 0) {
      let end = w + 1; // a run of all-disallowed words: one fill
      while (end < words && mask[end] === 0) end++;
      logits.fill(-Infinity, base, Math.min(end << 5, n));
      w = end - 1;
      continue;
    }
    let clear = ~word;
    while (clear !== 0) {
      const i = base + 31 - Math.clz32(clear & -clear);
      if (i < n) logits[i] = -Infinity;
      clear &= clear - 1;
    }
  }
  // Tokens past the mask (a model vocabulary larger than the tokenizer's) are never allowed.
  if (words * 32 < n) logits.fill(-Infinity, words * 32, n);
}

class MatcherConstraint implements TokenConstraint {
  private mask: Int32Array | undefined;
  private disposed = false;

  constructor(private readonly matcher: Matcher) {}

  async prepare(): Promise<void> {
    this.mask = await this.matcher.getNextTokenBitmask();
  }

  apply(logits: Float32Array): void {
    if (!this.mask) throw new FleetError('internal', 'constraint mask used before it was prepared');
    applyTokenBitmask(logits, this.mask);
    this.mask = undefined;
  }

  accept(token: number): boolean {
    return this.matcher.acceptToken(token);
  }

  get terminated(): boolean {
    return this.matcher.isTerminated();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.matcher.dispose();
  }
}

export class Grammars {
  private compiler: Promise<Compiler> | undefined;
  private readonly cache = new Map<string, Promise<CompiledGrammar>>();
  private readonly cacheEntries: number;
  compiles = 0;

  constructor(
    private readonly vocab: () => GrammarVocab,
    options: GrammarsOptions = {},
  ) {
    this.cacheEntries = options.cacheEntries ?? 64;
  }

  /** A fresh constraint for one request (compiling the grammar unless it is cached). */
  async constraint(source: GrammarSource, extraStopTokenIds: readonly number[] = []): Promise<TokenConstraint> {
    const compiled = await this.compiled(source);
    const stops = [...new Set([...this.vocab().stopTokenIds, ...extraStopTokenIds])];
    const matcher = await xgrammar().GrammarMatcher.createGrammarMatcher(compiled, stops);
    return new MatcherConstraint(matcher);
  }

  private compilerOnce(): Promise<Compiler> {
    this.compiler ??= (async () => {
      const xg = xgrammar();
      const v = this.vocab();
      const info = await xg.TokenizerInfo.createTokenizerInfo(v.encodedVocab, v.vocabType, false, v.vocabSize, v.stopTokenIds);
      return xg.GrammarCompiler.createGrammarCompiler(info, true);
    })();
    return this.compiler;
  }

  private compiled(source: GrammarSource): Promise<CompiledGrammar> {
    const hit = this.cache.get(source.key);
    if (hit) {
      this.cache.delete(source.key); // most recently used goes last
      this.cache.set(source.key, hit);
      return hit;
    }
    const pending = this.compilerOnce().then(async (compiler) => {
      this.compiles += 1;
      try {
        return await source.compile(compiler);
      } catch (err) {
        throw new FleetError('invalid_request', `the grammar engine cannot compile this constraint: ${err instanceof Error ? err.message : String(err)}`, { param: source.param ?? 'response_format', cause: err });
      }
    });
    pending.catch(() => this.cache.delete(source.key));
    this.cache.set(source.key, pending);
    while (this.cache.size > this.cacheEntries) {
      const oldest = this.cache.keys().next().value as string;
      const evicted = this.cache.get(oldest);
      this.cache.delete(oldest);
      // Matchers made from it hold their own reference (a shared pointer inside xgrammar); a request that took the
      // promise just before the eviction creates its matcher within this turn, so the handle is freed a second later.
      void evicted?.then((g) => setTimeout(() => g.dispose(), 1000).unref(), () => undefined);
    }
    return pending;
  }
}

/** xgrammar's vocabulary type for the worker's vocabulary encoding (see engine/token-bytes.ts). */
export function grammarVocabType(encoding: 'byte-level' | 'sentencepiece' | 'plain'): GrammarVocab['vocabType'] {
  return encoding === 'byte-level' ? 'byte_level' : encoding === 'sentencepiece' ? 'byte_fallback' : 'raw';
}
