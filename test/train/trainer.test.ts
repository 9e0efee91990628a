/**
 * fleetchat's trainer, through `fleetchat jobs train` and its Python runtime: bad input is refused before any
 * compute with an error naming the file, record or flag; a missing runtime names the script that installs it;
 * packing keeps attention inside each sample (packed loss = each sample's own loss); LoRA trains, and import-hf
 * merges the adapter into its base with PyTorch's logits (peft, unmerged) within 1e-4 and the same greedy tokens.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHfLlamaConfig } from '../../src/model/llama/llama-config';
import { logitsAt, openDecoder, relativeError, runSequence } from '../model/decoder-session';
import { runCli } from '../support/cli';
import { COMPAT_SCRIPT, trainRuntime } from '../support/train-runtime';

jest.setTimeout(25 * 60_000);

const ROOT = join(__dirname, '../..');
let dir: string;
let python: string;
let model: string;
let data: string;

beforeAll(async () => {
  python = trainRuntime();
  dir = mkdtempSync(join(tmpdir(), 'fleetchat-trainer-'));
  model = join(dir, 'base');
  data = join(dir, 'sft.jsonl');
  expect((await runCli(['model', 'create-tiny', '--out', model, '--preset', 'tiny'])).code).toBe(0);
  const prep = await runCli(['jobs', 'prepare-sft', '--in', join(ROOT, 'test/fixtures/fastchat/dummy_conversation.json'), '--out', data, '--model-name-or-path', model, '--max-length', '256', '--threads', '0', '--end', '120']);
  expect(prep.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const train = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> =>
  runCli(['jobs', 'train', '--model-name-or-path', model, '--data-path', data, '--model-max-length', '256', '--per-device-train-batch-size', '2', '--threads', '2', ...args], { env, timeoutMs: 600_000 });

function writeRecords(name: string, records: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n'));
  return path;
}

describe('bad input is refused before any compute', () => {
  const good = { id: 'ok', input_ids: [1, 2, 3, 4], labels: [-100, -100, 3, 4], attention_mask: [1, 1, 1, 1] };

  test('a missing Python runtime names the script that installs it', async () => {
    const empty = join(dir, 'no-cache');
    mkdirSync(empty);
    const r = await train(['--output-dir', join(dir, 'o-none')], { FLEETCHAT_CACHE_DIR: empty });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the trainer's Python runtime is not installed (${join(empty, 'train-venv/bin/python')} is missing): run scripts/install-train-runtime`);
  });

  test.each([
    ['labels that mask every token', [good, { id: 'masked', input_ids: [5, 6, 7], labels: [-100, -100, -100], attention_mask: [1, 1, 1] }], /:2 \(record masked\): labels mask every token .*\[file .*bad-token\.jsonl, line 2, record masked\]/],
    ['a sample longer than --model-max-length', [{ id: 'long', input_ids: Array.from({ length: 300 }, (_, i) => i), labels: Array.from({ length: 300 }, (_, i) => i) }], /:1 \(record long\): 300 tokens > --model-max-length 256 .*flag --model-max-length\]/],
    ['wrong shapes', [good, { id: 'shape', input_ids: [1, 2, 3], labels: [1, 2] }], /:2 \(record shape\): labels has 2 entries, input_ids 3/],
    ['a token outside the vocabulary', [{ id: 'vocab', input_ids: [1, 99999999], labels: [1, 99999999] }], /token id 99999999 is outside the model's vocabulary \(0\.\.50258\)/],
  ])('%s', async (label, records, message) => {
    const name = `bad-${label.split(' ').pop()!.replace(/\W/g, '')}.jsonl`;
    const out = join(dir, `o-${name}`);
    const r = await runCli(['jobs', 'train', '--model-name-or-path', model, '--data-path', writeRecords(name, records), '--output-dir', out, '--model-max-length', '256'], { timeoutMs: 300_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(out, 'trainer_log.jsonl'))).toBe(false);
  });

  test('a model directory that is not LLaMA-family', async () => {
    const gpt2 = join(dir, 'gpt2');
    mkdirSync(gpt2);
    writeFileSync(join(gpt2, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: 50257 }));
    const r = await runCli(['jobs', 'train', '--model-name-or-path', gpt2, '--data-path', data, '--output-dir', join(dir, 'o-gpt2')], { timeoutMs: 300_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config\.json: model_type 'gpt2' is not LLaMA-family \(llama, mistral, qwen2\)/);
  });

  test('flags are checked before Python starts', async () => {
    const r = await train(['--output-dir', join(dir, 'o-flags'), '--attention', 'varlen']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--attention varlen needs --bf16 on a CUDA device');
    expect((await train(['--output-dir', join(dir, 'o-flags'), '--warmup-ratio', '1.5'])).stderr).toMatch(/--warmup-ratio/);
  });
});

test('packing keeps attention inside each sample: the packed loss equals every sample run alone', () => {
  const out = execFileSync(python, [join(ROOT, 'scripts/compat/packing_check.py'), model, data, '256'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'src/jobs/train/python') } });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
  expect(r.samples).toBeGreaterThan(6);
  for (const key of ['fleetchat_masked', 'fleetchat_masked_eager', 'flatref']) expect(Math.abs(r[key] - r.alone) / r.alone).toBeLessThan(1e-5);
});

test('LoRA: trains only the adapter; import-hf merges it into the base with PyTorch\'s logits and greedy tokens', async () => {
  const out = join(dir, 'lora');
  const r = await train(['--output-dir', out, '--max-steps', '4', '--lora-r', '8', '--lora-alpha', '16', '--learning-rate', '5e-3', '--merge-lora', '--json']);
  expect(r.code).toBe(0);
  const start = JSON.parse(r.stdout.split('\n').find((l) => l.includes('"event":"start"'))!) as { trainable_parameters: number; parameters: number };
  expect(start.trainable_parameters).toBeLessThan(start.parameters / 10);
  expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
  expect(existsSync(join(out, 'merged', 'model.safetensors'))).toBe(true);
  const imported = join(dir, 'lora-imported');
  const imp = await runCli(['model', 'import-hf', out, '--lora-base', model, '--out', imported]);
  expect(imp.code).toBe(0);
  expect(imp.stdout).toMatch(/14 LoRA layers merged/);
  const prompts = [[50257, 7220, 198, 8241, 389, 345, 30, 50258, 198]];
  const reference = JSON.parse(execFileSync(python, [COMPAT_SCRIPT, out, '--lora-base', model, '--prompts', JSON.stringify(prompts), '--greedy', '6'], { encoding: 'utf8', maxBuffer: 1 << 28 })) as { logits: number[][][]; greedy: number[][] };
  const config = fromHfLlamaConfig(JSON.parse(readFileSync(join(imported, 'config.json'), 'utf8')) as Record<string, unknown>);
  const session = await openDecoder(imported);
  try {
    const result = await runSequence(session, config, prompts[0]);
    prompts[0].forEach((_, t) => expect(relativeError(logitsAt(result, 0, t), Float32Array.from(reference.logits[0][t]))).toBeLessThan(1e-4));
    const seq = [...prompts[0]];
    for (let k = 0; k < 6; k++) {
      const step = logitsAt(await runSequence(session, config, seq), 0, seq.length - 1);
      seq.push(step.indexOf(Math.max(...step)));
    }
    expect(seq.slice(prompts[0].length)).toEqual(reference.greedy[0]);
  } finally {
    await session.release();
  }
});
