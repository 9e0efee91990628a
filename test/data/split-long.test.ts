import { join } from 'node:path';
import { encodePrompt, loadTokenizer, renderChat, selectTemplate } from '../../src/chat';
import { runSplitLong, SPLIT_LONG_OPTIONS } from '../../src/jobs/data/commands/split-long';
import { conv, flags, jobIo, readJson, readReport, tempDir } from './job-harness';

const GPT2 = join(__dirname, '..', '..', 'node_modules', '@lenml', 'tokenizer-gpt2', 'models');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
type Conv = { id: string; model: string; conversations: Array<{ from: string; value: string }> };

/** Exact length of a sample as the model sees it, computed with the shared chat module directly. */
async function lengthFn(template: string) {
  const tokenizer = await loadTokenizer(GPT2);
  const selection = selectTemplate({ override: template, tokenizerConfig: tokenizer.chat });
  return (turns: Conv['conversations']) => encodePrompt(tokenizer, renderChat(selection, {
    messages: turns.map((t) => ({ role: t.from === 'human' ? 'user' : 'assistant', content: t.value })), addGenerationPrompt: false,
  })).length;
}

async function split(name: string, records: unknown[], extra: string[]) {
  const inFile = tmp.write(name, JSON.stringify(records));
  const out = tmp.path(`${name}.out.json`);
  await runSplitLong(flags(SPLIT_LONG_OPTIONS, ['--in-file', inFile, '--out-file', out, '--model-name-or-path', GPT2, ...extra]), jobIo());
  return { output: readJson(out) as Conv[], events: readReport(`${out}.report.jsonl`).filter((e) => e.action), out };
}

const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ['alpha', 'beta', 'gamma', 'delta', 'pi'][(i * 7 + seed) % 5]).join(' ');

describe('split-long', () => {
  const long = { ...conv('long', ...Array.from({ length: 12 }, (_, i): [string, string] => [i % 2 === 0 ? 'human' : 'gpt', words(10 + ((i * 13) % 40), i)])), model: 'gpt4' };

  it.each(['vicuna_v1.1', 'mpt-7b-chat', 'llama-3'])('packs whole rounds greedily under --max-length, measured exactly (%s)', async (template) => {
    const measure = await lengthFn(template);
    const maxLength = 260;
    const { output, events } = await split(`long-${template}.json`, [long], ['--max-length', String(maxLength), '--conv-template', template, '--threads', '1']);
    expect(output.length).toBeGreaterThan(1);
    expect(output.flatMap((s) => s.conversations)).toEqual(long.conversations);
    let start = 0;
    for (const [k, sample] of output.entries()) {
      expect(sample.id).toBe(`long_${start}`);
      expect(sample.model).toBe('gpt4');
      expect(measure(sample.conversations)).toBeLessThanOrEqual(maxLength);
      const next = output[k + 1];
      if (next) expect(measure([...sample.conversations, ...next.conversations.slice(0, 2)])).toBeGreaterThan(maxLength);
      start += sample.conversations.length;
    }
    expect(events).toEqual([expect.objectContaining({ id: 'long', reason: 'split', detail: `into ${output.length} samples` })]);
  });

  it('keeps a conversation that fits whole as one sample, and reports a dropped odd turn', async () => {
    const { output, events } = await split('fits.json', [conv('s', ['human', 'hi there'], ['gpt', 'hello'], ['human', 'unanswered'])], ['--conv-template', 'vicuna_v1.1']);
    expect(output).toEqual([{ id: 's_0', model: '', conversations: [{ from: 'human', value: 'hi there' }, { from: 'gpt', value: 'hello' }] }]);
    expect(events).toEqual([expect.objectContaining({ id: 's', action: 'changed', reason: 'odd_turn_removed' })]);
  });

  it('truncates, drops or keeps a round longer than --max-length by explicit choice, always reported', async () => {
    const measure = await lengthFn('vicuna_v1.1');
    const record = conv('big', ['human', 'short question'], ['gpt', 'short answer'], ['human', 'tell me everything'], ['gpt', words(400, 1)]);
    const base = ['--max-length', '120', '--conv-template', 'vicuna_v1.1'];
    const t = await split('over-t.json', [record], [...base, '--on-overflow', 'truncate']);
    expect(t.output.map((s) => s.id)).toEqual(['big_0', 'big_2']);
    expect(measure(t.output[1].conversations)).toBeLessThanOrEqual(120);
    expect(measure(t.output[1].conversations)).toBeGreaterThan(100);
    expect(words(400, 1).startsWith(t.output[1].conversations[1].value)).toBe(true);
    expect(t.events.map((e) => e.reason)).toEqual(['round_truncated', 'split']);
    const d = await split('over-d.json', [record], [...base, '--on-overflow', 'drop']);
    expect(d.output.map((s) => s.id)).toEqual(['big_0']);
    expect(d.events.map((e) => e.reason)).toEqual(['round_dropped_too_long']);
    const k = await split('over-k.json', [record], [...base, '--on-overflow', 'keep']);
    expect(k.output.map((s) => s.conversations.length)).toEqual([2, 2]);
    expect(k.events.map((e) => e.reason)).toEqual(['round_over_max_length', 'split']);
  });

  it('drops conversations whose roles do not alternate, with a reason', async () => {
    const { output, events } = await split('roles.json', [conv('r', ['gpt', 'a'], ['human', 'b'])], ['--conv-template', 'vicuna_v1.1']);
    expect(output).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ id: 'r', action: 'dropped', reason: 'wrong_format' })]);
  });
});
