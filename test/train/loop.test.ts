/**
 * The whole loop on the CPU, as a user types it: the generator's model (model.safetensors, LlamaForCausalLM names)
 * -> prepare-sft on FastChat's dummy conversations -> jobs train (packed rows; SIGTERM saves a checkpoint and a rerun
 * resumes from it; the loss falls) -> model import-hf (logits equal PyTorch's within 1e-4, greedy tokens equal) ->
 * fleetchat up -> the official openai client gets text -> gen-model-answer on two MT-bench questions.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { ValidLlamaConfig } from '../../src/model/llama/llama-config';
import { fromHfLlamaConfig } from '../../src/model/llama/llama-config';
import { logitsAt, openDecoder, relativeError, runSequence } from '../model/decoder-session';
import { runCli, spawnCli, waitForOutput } from '../support/cli';
import { COMPAT_SCRIPT, trainRuntime } from '../support/train-runtime';

jest.setTimeout(25 * 60_000);

const ROOT = join(__dirname, '../..');
const DUMMY = join(ROOT, 'test/fixtures/fastchat/dummy_conversation.json');
const STEPS = 30;
const TRAIN_ARGS = ['--max-steps', String(STEPS), '--save-steps', '8', '--per-device-train-batch-size', '2', '--model-max-length', '256',
  '--learning-rate', '3e-3', '--warmup-ratio', '0.1', '--lr-scheduler-type', 'cosine', '--threads', '2', '--json'];

type Ev = Record<string, unknown> & { event: string };

let dir: string;
let python: string;
beforeAll(() => {
  python = trainRuntime();
  dir = mkdtempSync(join(tmpdir(), 'fleetchat-loop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function events(stdout: string): Ev[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
}

function runTrain(args: string[], onEvent?: (e: Ev, child: ChildProcess) => void): Promise<{ code: number | null; events: Ev[]; stdout: string; stderr: string }> {
  const child = spawnCli(['jobs', 'train', ...args]);
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) onEvent?.(JSON.parse(l) as Ev, child);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, events: events(stdout), stdout, stderr })));
}

describe('prepare-sft -> train -> import-hf -> up -> openai client -> gen-model-answer', () => {
  let model: string;
  let data: string;
  let trained: string;
  let imported: string;

  test('create-tiny writes model.safetensors with LlamaForCausalLM names; prepare-sft tokenizes the dummy conversations', async () => {
    model = join(dir, 'base');
    data = join(dir, 'sft.jsonl');
    const made = await runCli(['model', 'create-tiny', '--out', model, '--preset', 'tiny', '--json']);
    expect(made.code).toBe(0);
    expect(existsSync(join(model, 'model.safetensors'))).toBe(true);
    const prep = await runCli(['jobs', 'prepare-sft', '--in', DUMMY, '--out', data, '--model-name-or-path', model, '--max-length', '256', '--threads', '0']);
    expect(prep.code).toBe(0);
    expect(readFileSync(data, 'utf8').trim().split('\n').length).toBeGreaterThan(400);
  });

  test('train: SIGTERM mid-run saves a checkpoint; the same command resumes from it; the loss falls by a third', async () => {
    trained = join(dir, 'trained');
    const args = ['--model-name-or-path', model, '--data-path', data, '--output-dir', trained, ...TRAIN_ARGS];
    let signalled = false;
    const first = await runTrain(args, (e, child) => {
      if (e.event === 'step' && (e.step as number) >= 10 && !signalled) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    expect(first.stdout).toMatch(/interrupted at step \d+; checkpoint .*checkpoint-\d+ — run the same command again to resume/);
    expect(first.code).toBe(143);
    const stoppedAt = first.events.find((e) => e.event === 'interrupted')!.step as number;
    expect(existsSync(join(trained, `checkpoint-${stoppedAt}`, 'trainable.safetensors'))).toBe(true);
    const firstLoss = first.events.find((e) => e.event === 'step')!.loss as number;

    const second = await runTrain(args);
    expect(second.code).toBe(0);
    const start = second.events.find((e) => e.event === 'start')!;
    expect(start).toMatchObject({ resumed_from: join(trained, `checkpoint-${stoppedAt}`), start_step: stoppedAt, max_steps: STEPS, attention: 'fleetchat_masked' });
    expect(second.events.find((e) => e.event === 'step')!.step).toBe(stoppedAt + 1);
    const done = second.events.find((e) => e.event === 'done')!;
    expect(done.step).toBe(STEPS);
    // Stated margin: the final loss is at most two thirds of the first step's (random weights start near ln(50259) ≈ 10.8).
    expect(done.loss as number).toBeLessThan((firstLoss * 2) / 3);
    expect(readFileSync(join(trained, 'loss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<path d="M/);
    expect(existsSync(join(trained, 'model.safetensors'))).toBe(true);
  });

  test('import-hf: logits equal PyTorch within 1e-4 relative, greedy tokens equal', async () => {
    imported = join(dir, 'imported');
    const r = await runCli(['model', 'import-hf', trained, '--out', imported]);
    expect(r.code).toBe(0);
    const prompts = [[50257, 7220, 198, 8241, 389, 345, 30, 50258, 198, 50257, 562, 10167, 198], [40, 716, 257]];
    const reference = JSON.parse(execFileSync(python, [COMPAT_SCRIPT, trained, '--prompts', JSON.stringify(prompts), '--greedy', '8'], { encoding: 'utf8', maxBuffer: 1 << 28 })) as { logits: number[][][]; greedy: number[][] };
    const config: ValidLlamaConfig = fromHfLlamaConfig(JSON.parse(readFileSync(join(imported, 'config.json'), 'utf8')) as Record<string, unknown>);
    const session = await openDecoder(imported);
    try {
      for (const [i, prompt] of prompts.entries()) {
        const result = await runSequence(session, config, prompt);
        prompt.forEach((_, t) => expect(relativeError(logitsAt(result, 0, t), Float32Array.from(reference.logits[i][t]))).toBeLessThan(1e-4));
        const seq = [...prompt];
        for (let k = 0; k < 8; k++) {
          const out = await runSequence(session, config, seq);
          const last = logitsAt(out, 0, seq.length - 1);
          seq.push(last.indexOf(Math.max(...last)));
        }
        expect(seq.slice(prompt.length)).toEqual(reference.greedy[i]);
      }
    } finally {
      await session.release();
    }
  });

  test('up serves the trained model: the openai client gets text, gen-model-answer answers two MT-bench questions', async () => {
    mkdirSync(join(dir, 'cache'));
    const up = spawnCli(['up', '--model', imported, '--port', '0', '--cache-dir', join(dir, 'cache'), '--threads', '1']);
    try {
      const [, url] = await waitForOutput(up, /fleetchat is up: (http:\/\/[^\s]+)/, 120_000);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none' });
      const models = await client.models.list();
      const name = models.data[0].id;
      const reply = await client.chat.completions.create({ model: name, messages: [{ role: 'user', content: 'Who are you?' }], max_tokens: 12, temperature: 0 });
      expect(reply.choices[0].message.content?.length).toBeGreaterThan(0);
      const bench = join(dir, 'bench');
      const answers = join(bench, 'answers.jsonl');
      const gen = await runCli(['jobs', 'gen-model-answer', '--model', name, '--base-url', `${url}/v1`, '--bench-dir', bench, '--answer-file', answers, '--question-end', '2', '--max-tokens', '8'], { timeoutMs: 180_000 });
      expect(gen.code).toBe(0);
      const lines = readFileSync(answers, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question_id: number; choices: Array<{ turns: string[] }> });
      expect(lines).toHaveLength(2);
      for (const a of lines) expect(a.choices[0].turns).toHaveLength(2);
    } finally {
      up.kill('SIGINT');
      await new Promise((resolve) => up.once('exit', resolve));
    }
  });
});
