/**
 * Bounded integers are enforced exactly. xgrammar 0.1.27's own ranges leak (`[-5, 120]` accepts 125); ours are
 * checked here with xgrammar's real matcher over a one-character vocabulary: every string a range grammar accepts is
 * enumerated (depth-first over the token bitmask) and must be exactly the integers of the range; wide ranges are
 * probed at their bounds and with random numbers of every length. A JSON schema compiled through schema-ebnf.ts keeps
 * the rest of the grammar (keys, strings, null in a type list) and puts the exact ranges in.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { CompiledGrammar, GrammarCompiler } from '@mlc-ai/web-xgrammar';
import { integerRangeEbnf } from '../../src/worker/grammar/integer-range';
import { checkJsonSchema } from '../../src/worker/grammar/schema-check';
import { jsonSchemaEbnf } from '../../src/worker/grammar/schema-ebnf';
import { xgrammar } from '../../src/worker/grammar/xgrammar';
import { enumerateGrammar } from '../support/grammar-enumerate';

/** Printable ASCII, one token per character, then the stop token. */
const VOCAB = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const STOP = VOCAB.length;

describe('exact integer ranges for constrained decoding', () => {
  let compiler: GrammarCompiler;

  beforeAll(async () => {
    const xg = xgrammar();
    const info = await xg.TokenizerInfo.createTokenizerInfo([...VOCAB, '</s>'], 'raw', false, STOP + 1, [STOP]);
    compiler = await xg.GrammarCompiler.createGrammarCompiler(info, false);
  });

  async function accepts(grammar: CompiledGrammar, text: string): Promise<boolean> {
    const m = await xgrammar().GrammarMatcher.createGrammarMatcher(grammar, [STOP]);
    try {
      for (const ch of text) if (!m.acceptToken(VOCAB.indexOf(ch))) return false;
      return m.acceptToken(STOP);
    } finally {
      m.dispose();
    }
  }

  /** Every string the grammar accepts, up to maxLen characters; `leak` is set when a longer one is possible. */
  async function enumerate(grammar: CompiledGrammar, maxLen: number): Promise<{ strings: Set<string>; leak?: string }> {
    const { strings, leak } = await enumerateGrammar(grammar, VOCAB, maxLen);
    return { strings: new Set(strings), leak };
  }

  it('the ranges xgrammar gets wrong, and 120 random ones, accept exactly their integers', async () => {
    const rng = xoroshiro128plus(11);
    const ranges: Array<[number, number]> = [[-5, 120], [-280, -274], [85, 166], [0, 0], [-1, 1], [-100, -100], [10, 99], [-1234, 1234]];
    for (let k = 0; k < 120; k++) {
      const scale = [10, 100, 1000, 3000][k % 4];
      const lo = uniformInt(rng, -scale, scale);
      ranges.push([lo, lo + uniformInt(rng, 0, scale)]);
    }
    for (const [lo, hi] of ranges) {
      const grammar = await compiler.compileGrammar(`root ::= ${integerRangeEbnf(lo, hi)}`);
      const { strings, leak } = await enumerate(grammar, Math.max(String(lo).length, String(hi).length));
      grammar.dispose();
      expect({ lo, hi, leak }).toEqual({ lo, hi, leak: undefined });
      const want = Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i));
      expect([...strings].sort()).toEqual(want.sort());
    }
  }, 120_000);

  it('wide ranges (the stand-ins for one-sided bounds) hold at their bounds and at every length', async () => {
    const FAR = 999_999_999;
    const rng = xoroshiro128plus(5);
    for (const [lo, hi] of [[-FAR, -860], [-FAR, FAR], [7, FAR], [-FAR, 13], [12_345, FAR], [1000, 99_999_999]] as Array<[number, number]>) {
      const grammar = await compiler.compileGrammar(`root ::= ${integerRangeEbnf(lo, hi)}`);
      const probes = new Set([lo, hi, lo - 1, hi + 1, lo + 1, hi - 1, 0, -1, 1].map(String));
      for (let len = 1; len <= 11; len++) {
        for (let k = 0; k < 6; k++) {
          let s = String(uniformInt(rng, 1, 9));
          while (s.length < len) s += String(uniformInt(rng, 0, 9));
          probes.add(s).add(`-${s}`);
        }
      }
      for (const p of [...probes, '-0', '00', '01']) {
        const v = Number(p);
        expect({ p, accepted: await accepts(grammar, p) }).toEqual({ p, accepted: String(v) === p && v >= lo && v <= hi });
      }
      grammar.dispose();
    }
  }, 120_000);

  it('a JSON schema keeps its structure and gets the exact ranges (also inside a type list and through $ref)', async () => {
    const schema = {
      $defs: { level: { type: 'integer', minimum: -5, maximum: 120 } },
      type: 'object',
      properties: { a: { $ref: '#/$defs/level' }, b: { type: ['integer', 'null'], exclusiveMinimum: -281, exclusiveMaximum: -273 }, c: { type: 'integer', minimum: 7 } },
      required: ['a', 'b', 'c'],
      additionalProperties: false,
    };
    const grammar = await compiler.compileGrammar(await jsonSchemaEbnf(checkJsonSchema(JSON.stringify(schema), 'response_format')));
    const doc = (a: string, b: string, c: string): string => `{"a": ${a}, "b": ${b}, "c": ${c}}`;
    expect(await accepts(grammar, doc('120', '-274', '7'))).toBe(true);
    expect(await accepts(grammar, doc('-5', 'null', '999999999'))).toBe(true);
    expect(await accepts(grammar, doc('125', '-274', '7'))).toBe(false); // xgrammar alone accepts this
    expect(await accepts(grammar, doc('12', '-272', '7'))).toBe(false); // and this
    expect(await accepts(grammar, doc('12', '-280', '6'))).toBe(false);
    expect(await accepts(grammar, doc('12', '"x"', '8'))).toBe(false);
    expect(await accepts(grammar, '{"a": 1, "b": null}')).toBe(false);
    grammar.dispose();
  }, 60_000);
});
