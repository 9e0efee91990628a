import { join } from 'node:path';
import { listConvTemplates, loadTokenizer, selectTemplate, type LoadedTokenizer } from '../../src/chat';
import { PREPARE_SFT_OPTIONS, runPrepareSft } from '../../src/jobs/data/commands/prepare-sft';
import { checkLabels } from '../../src/jobs/data/tokenize/label-check';
import { encodeConversation, IGNORE_TOKEN_ID, type ChatMessage } from '../../src/jobs/data/tokenize/sft-encode';
import { conv, FIXTURES, flags, jobIo, readJsonl, readReport, tempDir } from './job-harness';

const MODELS = join(__dirname, '..', '..', 'node_modules', '@lenml');
const GPT2 = join(MODELS, 'tokenizer-gpt2', 'models');
const QWEN = join(MODELS, 'tokenizer-qwen2_5', 'models');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const messages: ChatMessage[] = [
  { role: 'user', content: 'Hello there, héllo 日本 😀? Write `code`.' },
  { role: 'assistant', content: 'Sure:\n```py\nprint(1)\n```\nDone 😀' },
  { role: 'user', content: 'Thanks.' },
  { role: 'assistant', content: 'You are welcome.' },
];

/** Decoded runs of unmasked tokens. */
function unmasked(tokenizer: LoadedTokenizer, ids: number[], labels: number[]): string[] {
  const runs: number[][] = [];
  labels.forEach((l, i) => {
    if (l === IGNORE_TOKEN_ID) return;
    if (i > 0 && labels[i - 1] !== IGNORE_TOKEN_ID) runs[runs.length - 1].push(ids[i]);
    else runs.push([ids[i]]);
  });
  return runs.map((r) => tokenizer.decode(r));
}

describe('prepare-sft label masking', () => {
  it('unmasks exactly the assistant replies and their end separator (vicuna_v1.1, GPT-2 tokenizer)', async () => {
    const tokenizer = await loadTokenizer(GPT2);
    const result = encodeConversation({ tokenizer, selection: selectTemplate({ override: 'vicuna_v1.1', tokenizerConfig: tokenizer.chat }) }, messages);
    if (!result.ok) throw new Error(result.detail);
    const { inputIds, labels } = result.encoded;
    expect(labels.map((l, i) => (l === IGNORE_TOKEN_ID ? inputIds[i] : l))).toEqual(inputIds);
    // "ASSISTANT:" + " Sure" tokenizes as " Sure": the reply's first token carries the space before it.
    expect(unmasked(tokenizer, inputIds, labels)).toEqual([` ${messages[1].content}</s>`, ` ${messages[3].content}</s>`]);
  });

  it.each([GPT2, QWEN])('round-trips --check for every FastChat template that renders a two-role conversation (%s)', async (dir) => {
    const tokenizer = await loadTokenizer(dir);
    const failures: string[] = [];
    let checked = 0;
    for (const template of listConvTemplates()) {
      if (template.sepStyle === null) continue; // FastChat itself cannot render these
      const result = encodeConversation({ tokenizer, selection: selectTemplate({ override: template.name, tokenizerConfig: tokenizer.chat }) }, messages);
      const problem = result.ok ? checkLabels(result.encoded, tokenizer, [messages[1].content, messages[3].content]) : result.detail;
      if (problem) failures.push(`${template.name}: ${problem}`);
      if (result.ok && result.encoded.labels.some((l) => l !== IGNORE_TOKEN_ID)) checked++;
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(90);
  });

  it("round-trips --check with a tokenizer's own Jinja chat template (Qwen2.5)", async () => {
    const tokenizer = await loadTokenizer(QWEN);
    const result = encodeConversation({ tokenizer, selection: selectTemplate({ override: 'jinja', tokenizerConfig: tokenizer.chat }) }, messages);
    if (!result.ok) throw new Error(result.detail);
    expect(checkLabels(result.encoded, tokenizer, [messages[1].content, messages[3].content])).toBeUndefined();
    expect(unmasked(tokenizer, result.encoded.inputIds, result.encoded.labels)).toEqual([`${messages[1].content}<|im_end|>\n`, `${messages[3].content}<|im_end|>\n`]);
  });

  it('reports a mask that does not match the assistant text', async () => {
    const tokenizer = await loadTokenizer(GPT2);
    const result = encodeConversation({ tokenizer, selection: selectTemplate({ override: 'vicuna_v1.1', tokenizerConfig: tokenizer.chat }) }, messages);
    if (!result.ok) throw new Error(result.detail);
    const labels = [...result.encoded.labels];
    labels[labels.findIndex((l) => l !== IGNORE_TOKEN_ID) + 2] = IGNORE_TOKEN_ID;
    expect(checkLabels({ ...result.encoded, labels }, tokenizer, [messages[1].content, messages[3].content])).toMatch(/masked|not in the unmasked/);
  });
});

describe('prepare-sft job', () => {
  it("writes tokens and messages for FastChat's dummy conversations, all passing --check", async () => {
    const out = tmp.path('sft.jsonl');
    const summary = await runPrepareSft(flags(PREPARE_SFT_OPTIONS, ['--in-file', join(FIXTURES, 'fastchat', 'dummy_conversation.json'), '--out-file', out, '--model-name-or-path', QWEN, '--conv-template', 'jinja', '--check', '--threads', '2']), jobIo());
    expect(summary).toMatchObject({ records: 500, kept: 500, dropped: 0 });
    const rows = readJsonl(out) as Array<{ id: string; input_ids: number[]; labels: number[]; attention_mask: number[] }>;
    expect(rows).toHaveLength(500);
    for (const row of rows) {
      expect(row.labels).toHaveLength(row.input_ids.length);
      expect(row.attention_mask).toEqual(row.input_ids.map(() => 1));
      expect(row.labels.some((l) => l !== IGNORE_TOKEN_ID)).toBe(true);
    }
    const msgs = readJsonl(tmp.path('sft.messages.jsonl')) as Array<{ id: string; messages: ChatMessage[] }>;
    expect(msgs.map((m) => m.id)).toEqual(rows.map((r) => r.id));
    expect(msgs[0].messages[0]).toEqual({ role: 'user', content: 'Who are you?' });
  });

  it('truncates or drops over-long conversations and drops wrong roles, all reported', async () => {
    const long = conv('long', ['human', 'question'], ['gpt', 'word '.repeat(300)]);
    const bad = conv('bad', ['gpt', 'answer first'], ['human', 'then a question']);
    const trailing = conv('trail', ['human', 'q1'], ['gpt', 'a1'], ['human', 'q2']);
    const inFile = tmp.write('sft-in.json', JSON.stringify([long, bad, trailing]));
    const out = tmp.path('sft-trunc.jsonl');
    const base = ['--in-file', inFile, '--model-name-or-path', GPT2, '--conv-template', 'vicuna_v1.1', '--max-length', '64', '--threads', '0'];
    await runPrepareSft(flags(PREPARE_SFT_OPTIONS, [...base, '--out-file', out]), jobIo());
    const rows = readJsonl(out) as Array<{ id: string; input_ids: number[] }>;
    expect(rows.map((r) => [r.id, r.input_ids.length <= 64])).toEqual([['long', true], ['trail', true]]);
    expect(readReport(`${out}.report.jsonl`).filter((e) => e.action).map((e) => [e.id, e.reason])).toEqual([
      ['long', 'truncated'], ['bad', 'wrong_format'], ['trail', 'trailing_user_removed'],
    ]);
    const dropOut = tmp.path('sft-drop.jsonl');
    await runPrepareSft(flags(PREPARE_SFT_OPTIONS, [...base, '--out-file', dropOut, '--on-overflow', 'drop']), jobIo());
    expect((readJsonl(dropOut) as Array<{ id: string }>).map((r) => r.id)).toEqual(['trail']);
  });
});
