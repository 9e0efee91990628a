/**
 * Tokenizers rebuilt from GGUF vocabularies, loaded the way the worker loads them (src/chat loadTokenizer), must
 * tokenize a text corpus exactly as llama.cpp does from the same GGUF, and decode back to the text:
 *   - SmolLM2's byte-level BPE (tokenizer.ggml.pre = smollm), special tokens parsed in the text;
 *   - a SentencePiece-style vocabulary (tokenizer.ggml.model = llama, scores, byte fallback, BOS added).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, type LoadedTokenizer } from '../../src/chat/tokenizer';
import { openGguf } from '../../src/model/gguf/gguf-file';
import { writeGgufTokenizer } from '../../src/model/gguf/tokenizer-files';
import { LlamaCpp } from '../../bench/real/llamacpp-client';
import { describeWithSmolLM2 } from './support/smollm2';
import { writeSpmVocabGguf } from './support/synthetic-spm';

jest.setTimeout(120_000);

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FIXTURES = join(__dirname, '../fixtures');

/** MT-bench questions (prose, maths, code), FastChat conversations, and hand-made edge cases. */
function corpus(): string[] {
  const questions = readFileSync(join(FIXTURES, 'fastchat/mt_bench/question.jsonl'), 'utf8').trim().split('\n')
    .flatMap((line) => (JSON.parse(line) as { turns: string[] }).turns);
  const conversations = (JSON.parse(readFileSync(join(FIXTURES, 'fastchat/dummy_conversation.json'), 'utf8')) as Array<{ conversations: Array<{ value: string }> }>)
    .slice(0, 40).flatMap((c) => c.conversations.map((t) => t.value));
  const edge = [
    '', ' ', '  leading spaces', 'trailing spaces   ', 'tabs\tand\nnewlines\n\n\nand\r\nCRLF', 'Héllo — 日本語 😀 emoji 👩‍💻 and ﬁ ligature',
    'numbers 1234567890 3.14159 -42 1e-5 10,000,000', "contractions: don't, I'm, we'll, they've, she's, I'd, you're", 'UPPER lower MiXeD',
    'def f(x):\n    return x ** 2  # comment\n', '{"json": [1, 2, {"a": null}]}', 'a\u00a0non-breaking\u2003em space', 'Ελληνικά Русский العربية हिन्दी',
    '    indented\n        more', '!!!???...,,,;;;', 'x'.repeat(300),
  ];
  return [...questions, ...conversations, ...edge].filter((t, i, all) => all.indexOf(t) === i);
}

async function tokenizerDir(gguf: string, name: string): Promise<LoadedTokenizer> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const file = await openGguf(gguf);
  try {
    writeGgufTokenizer(file.metadata, dir, 2048);
  } finally {
    file.close();
  }
  return loadTokenizer(dir);
}

async function expectSameTokens(ours: LoadedTokenizer, llama: LlamaCpp, texts: string[], addSpecial: boolean): Promise<void> {
  const mismatches: string[] = [];
  for (const text of texts) {
    const expected = await llama.tokenize(text);
    const got = ours.encode(text, { addSpecialTokens: addSpecial });
    if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`${JSON.stringify(text.slice(0, 60))}: ours ${JSON.stringify(got.slice(0, 12))} llama.cpp ${JSON.stringify(expected.slice(0, 12))}`);
  }
  expect(mismatches).toEqual([]);
}

describeWithSmolLM2('SmolLM2 tokenizer rebuilt from the GGUF (byte-level BPE, smollm pre-tokenizer)', (gguf) => {
  let ours: LoadedTokenizer;
  let llama: LlamaCpp;
  beforeAll(async () => {
    ours = await tokenizerDir(gguf, 'smollm2');
    llama = await LlamaCpp.open(gguf, { vocabOnly: true });
  });
  afterAll(() => llama.close());

  it('tokenizes the corpus exactly as llama.cpp does', async () => {
    const texts = corpus();
    expect(texts.length).toBeGreaterThan(150);
    await expectSameTokens(ours, llama, texts, false);
  });

  it('parses the chat template\'s special tokens as single tokens, as llama.cpp does with special parsing', async () => {
    const chat = '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n';
    await expectSameTokens(ours, llama, [chat, '<|endoftext|>text<|im_end|>'], false);
    expect(ours.encode(chat).filter((id) => id === 1 || id === 2)).toEqual([1, 2, 1, 2, 1]);
  });

  it('decodes every corpus text back to itself, and llama.cpp detokenizes our ids to the same text', async () => {
    for (const text of corpus().slice(0, 60)) {
      const ids = ours.encode(text);
      expect(ours.decode(ids)).toBe(text);
      expect(await llama.detokenize(ids)).toBe(text);
    }
  });

  it('knows SmolLM2\'s special tokens and chat template from the GGUF', () => {
    expect(ours.bosTokenId).toBe(1);
    expect(ours.eosTokenIds).toContain(2);
    expect(ours.chatTemplate).toContain('<|im_start|>');
    expect(ours.specialTokenIds.has(0) && ours.specialTokenIds.has(1) && ours.specialTokenIds.has(2)).toBe(true);
  });
});

describe('SentencePiece-style tokenizer rebuilt from a llama GGUF vocabulary (scores, byte fallback)', () => {
  let ours: LoadedTokenizer;
  let llama: LlamaCpp;
  beforeAll(async () => {
    const gguf = join(tmp, 'spm-vocab.gguf');
    writeSpmVocabGguf(gguf);
    ours = await tokenizerDir(gguf, 'spm');
    llama = await LlamaCpp.open(gguf, { vocabOnly: true });
  });
  afterAll(() => llama.close());

  it('tokenizes the corpus exactly as llama.cpp does (a space prepended, unknown characters as bytes; BOS added with special tokens)', async () => {
    const texts = corpus().filter((t) => t !== '');
    await expectSameTokens(ours, llama, texts, false);
    const withBytes = ours.encode('日本語 😀', { addSpecialTokens: true });
    expect(withBytes[0]).toBe(1);
    expect(withBytes.some((id) => id >= 3 && id < 3 + 256)).toBe(true);
  });

  it('decodes back to the text', () => {
    for (const text of corpus().slice(0, 60)) expect(ours.decode(ours.encode(text))).toBe(text);
  });
});
