/**
 * FSDP on the CPU: `jobs train --nproc-per-node 2 --fsdp "full_shard auto_wrap" --gradient-checkpointing` runs two
 * gloo processes through torchrun with every decoder layer sharded. At the same global batch (1 process × 4
 * micro-batches of accumulation = 2 processes × 2) the loss of every step equals the one-process run; the checkpoint
 * (full tensors gathered to rank 0) resumes at the next step with the same losses; the final model.safetensors is a
 * plain checkpoint equal to the one-process model, which `model import-hf` reads.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfCheckpointWeights } from '../../src/model/hf/hf-weights';
import { runCli } from '../support/cli';
import { trainRuntime } from '../support/train-runtime';

jest.setTimeout(20 * 60_000);

const ROOT = join(__dirname, '../..');
let dir: string;
let model: string;
let data: string;

interface Line { event: string; step?: number; loss?: number; resumed_from?: string | null; start_step?: number; parallel?: string; fsdp?: { sharding: string; units: number; layer_class: string } | null; world_size?: number }

beforeAll(async () => {
  trainRuntime();
  dir = mkdtempSync(join(tmpdir(), 'fleetchat-fsdp-'));
  model = join(dir, 'base');
  data = join(dir, 'sft.jsonl');
  expect((await runCli(['model', 'create-tiny', '--out', model, '--preset', 'tiny'])).code).toBe(0);
  const prep = await runCli(['jobs', 'prepare-sft', '--in', join(ROOT, 'test/fixtures/fastchat/dummy_conversation.json'), '--out', data, '--model-name-or-path', model, '--max-length', '256', '--threads', '0', '--end', '120']);
  expect(prep.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function train(out: string, args: string[]): Promise<Line[]> {
  const r = await runCli(['jobs', 'train', '--model-name-or-path', model, '--data-path', data, '--output-dir', out, '--model-max-length', '256',
    '--per-device-train-batch-size', '1', '--max-steps', '3', '--save-steps', '2', '--learning-rate', '5e-3', '--device', 'cpu', '--threads', '1', '--json', ...args], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`jobs train exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

const losses = (lines: Line[]): Map<number, number> => new Map(lines.filter((l) => l.event === 'step').map((l) => [l.step!, l.loss!]));

test('2 processes with FSDP match 1 process at the same global batch; the checkpoint resumes; import-hf reads the model', async () => {
  const single = await train(join(dir, 'one'), ['--gradient-accumulation-steps', '4']);
  const out = join(dir, 'fsdp');
  const fsdpArgs = ['--nproc-per-node', '2', '--fsdp', 'full_shard auto_wrap', '--gradient-checkpointing', '--gradient-accumulation-steps', '2'];
  const sharded = await train(out, fsdpArgs);
  const start = sharded.find((l) => l.event === 'start')!;
  expect(start).toMatchObject({ world_size: 2, parallel: 'fsdp', fsdp: { sharding: 'full_shard', units: 3, layer_class: 'LlamaDecoderLayer' } });
  const a = losses(single);
  const b = losses(sharded);
  expect([...b.keys()]).toEqual([1, 2, 3]);
  for (const [step, loss] of a) expect(Math.abs(b.get(step)! - loss) / loss).toBeLessThan(1e-4);
  expect(b.get(3)!).toBeLessThan(b.get(1)!);
  expect(existsSync(join(out, 'checkpoint-2', 'trainable.safetensors'))).toBe(true);

  // the same command again resumes from checkpoint-2 (full tensors, re-sharded) and reproduces step 3
  const resumed = await train(out, fsdpArgs);
  expect(resumed.find((l) => l.event === 'start')).toMatchObject({ resumed_from: join(out, 'checkpoint-2'), start_step: 2 });
  const c = losses(resumed);
  expect([...c.keys()]).toEqual([3]);
  expect(Math.abs(c.get(3)! - b.get(3)!) / b.get(3)!).toBeLessThan(1e-5);

  // the final model is an ordinary checkpoint (full tensors, tied lm_head left out as save_pretrained does), equal to
  // the one-process model, and import-hf reads it
  const one = new HfCheckpointWeights(join(dir, 'one'));
  const sharded2 = new HfCheckpointWeights(out);
  expect(sharded2.names().sort()).toEqual(one.names().sort());
  for (const name of one.names()) {
    const x = one.get(name).data;
    const y = sharded2.get(name).data;
    let worst = 0;
    for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs(x[k] - y[k]));
    expect(worst).toBeLessThan(1e-4);
  }
  const imported = join(dir, 'fsdp-imported');
  const imp = await runCli(['model', 'import-hf', out, '--out', imported]);
  expect(imp.code).toBe(0);
  expect(existsSync(join(imported, 'onnx', 'model.onnx'))).toBe(true);
});

test('bad FSDP flags are refused before any compute', async () => {
  const base = ['jobs', 'train', '--model-name-or-path', model, '--data-path', data, '--output-dir', join(dir, 'bad')];
  const mode = await runCli([...base, '--fsdp', 'hybrid_shard']);
  expect(mode.code).toBe(1);
  expect(mode.stderr).toMatch(/--fsdp.*full_shard \| shard_grad_op, auto_wrap, offload.*hybrid_shard/);
  const merge = await runCli([...base, '--fsdp', '--lora-r', '4', '--merge-lora'], { timeoutMs: 300_000 });
  expect(merge.code).toBe(2);
  expect(merge.stderr).toContain('--merge-lora cannot run under --fsdp');
  const cpu = await runCli([...base, '--gpus', '2', '--device', 'cpu']);
  expect(cpu.code).toBe(2);
  expect(cpu.stderr).toContain('--gpus with --device cpu');
});
