import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../src/common/log';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import { runChatSession } from '../../src/cli/local/chat-session';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { runCli } from '../support/cli';
import { tinyModel } from '../support/models';

describe('fleetchat generate', () => {
  it('prints JSON with text, token ids, finish reason and usage; a seed makes it reproducible', async () => {
    const dir = await tinyModel();
    const args = ['generate', '--model', dir, '--prompt', 'Once upon a time', '--max-tokens', '7', '--temperature', '0.9', '--seed', '3', '--threads', '1', '--json'];
    const a = await runCli(args);
    expect(a.code).toBe(0);
    const out = JSON.parse(a.stdout) as { text: string; token_ids: number[]; finish_reason: string; usage: { completion_tokens: number; prompt_tokens: number } };
    expect(out.token_ids.length).toBeGreaterThan(0);
    expect(out.usage.completion_tokens).toBe(out.token_ids.length);
    expect(out.usage.prompt_tokens).toBe(4);
    const b = await runCli(args);
    expect(JSON.parse(b.stdout)).toEqual(out);
  }, 120_000);

  it('applies the chat template to --messages and rejects bad usage with exit code 2', async () => {
    const dir = await tinyModel();
    const file = join(mkdtempSync(join(tmpdir(), 'fc-')), 'messages.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: 'Hi' }]));
    const r = await runCli(['generate', '--model', dir, '--messages', file, '--max-tokens', '3', '--temperature', '0', '--threads', '1', '--json']);
    expect(r.code).toBe(0);
    // The ChatML prompt, written by hand and tokenized with the model's tokenizer.json directly.
    const tok = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
    const expected = tok.encode('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', { add_special_tokens: false }).ids.length;
    expect((JSON.parse(r.stdout) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(expected);
    const bad = await runCli(['generate', '--model', dir, '--threads', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/exactly one of --prompt or --messages/);
    const missing = await runCli(['generate', '--model', '/nonexistent/model', '--prompt', 'x']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/model directory not found: \/nonexistent\/model/);
  }, 120_000);
});

describe('fleetchat chat session', () => {
  let rt: GenerationRuntime;
  beforeAll(async () => {
    rt = await loadGenerationRuntime({ dir: await tinyModel(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 1, maxQueue: 1, maxPrefillTokens: 4096, logger: silentLogger() });
  }, 60_000);
  afterAll(async () => rt?.release());

  it('answers turn after turn and understands !!regen, !!remove, !!reset and !!exit', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const done = runChatSession({ runtime: rt, sampling: { temperature: 0, maxTokens: 5 }, input, output });
    input.end(['Hello', '!!regen', 'Second question', '!!remove', '!!reset', 'Again', '!!exit', 'never read'].join('\n'));
    await done;
    const answers = text.split('assistant: ').slice(1).map((a) => a.split('\nuser: ')[0]);
    expect(answers).toHaveLength(4); // Hello, regen, Second question, Again
    expect(answers[1]).toBe(answers[0]); // greedy regeneration of the same turn
    expect(answers[3]).not.toContain('never read');
    expect(text).toContain('[last exchange removed]');
    expect(text).toContain('[conversation reset]');
    expect(text).not.toContain('never read');
  });
});
