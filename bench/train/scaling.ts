/**
 * `npm run bench:train -- --gpus N`: how training scales over the GPUs of one host. fleetchat's trainer through
 * torchrun at 1, 2, 4, 8 processes (≤ N; FSDP full_shard from 2 up, bf16, the SmolLM2-135M shape with random weights,
 * sequence length 2,048, 8 rows per GPU: weak scaling, the global batch grows with N) and FastChat's own train.py
 * under torchrun + FSDP (`--fsdp "full_shard auto_wrap" --fsdp_transformer_layer_cls_to_wrap LlamaDecoderLayer`) at
 * the same counts, on FastChat's dummy conversations. Real (non-padding) tokens/s of all ranks together; scaling
 * efficiency = tokens/s at N ÷ (N × tokens/s at 1) (issue 23's goal: ≥ 0.85 at 2, ≥ 0.75 at 4 or 8). Table, then one
 * JSON line. Fewer than N GPUs: "needs N GPUs, found M", exit 0.
 *
 * `--gpus N --device cpu`: the same plumbing on the CPU (gloo processes, the generated tiny model, a few steps; our
 * trainer only — FastChat's FSDP path needs CUDA): a smoke check, not a measurement (the processes share 2 cores here).
 *
 *   BENCH_TRAIN_SCALING_STEPS (GPU 12 / CPU 3)  BENCH_TRAIN_SCALING_WARMUP (GPU 3 / CPU 1)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listGpus } from '../../src/worker/device/gpus';
import { needsGpus } from '../gpu/workers';
import { cli, prepareData, ROOT } from './prepare';
import { summarise, type RunnerResult, type StepLine } from './report';

const WORK = join(ROOT, '.cache/bench-train-scaling');
const SMOLLM2_SHAPE = { num_hidden_layers: 30, hidden_size: 576, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, intermediate_size: 1536, max_position_embeddings: 2048, rope_theta: 100000, tie_word_embeddings: true };

export interface ScalingRun {
  gpus: number;
  cpu: boolean;
  install: (flag?: string) => string;
  run: (label: string, command: string, args: string[], env?: Record<string, string>) => StepLine[];
}

const countsUpTo = (n: number): number[] => [1, 2, 4, 8].filter((k) => k <= n).concat(n > 8 || ![1, 2, 4, 8].includes(n) ? [n] : []);

function model(cpu: boolean, python: string): string {
  const dir = join(WORK, 'model');
  cli(['model', 'create-tiny', '--out', dir, '--preset', 'tiny']);
  if (cpu) return dir;
  const config = { ...(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>), ...SMOLLM2_SHAPE };
  const shaped = join(WORK, 'model-config');
  rmSync(shaped, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', shaped]);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']) copyFileSync(join(dir, f), join(shaped, f));
  writeFileSync(join(shaped, 'config.json'), JSON.stringify(config));
  const out = join(WORK, 'model-135m');
  execFileSync(python, [join(__dirname, 'python/make_model.py'), shaped, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

export function scalingBench(s: ScalingRun): void {
  const found = s.cpu ? Number.POSITIVE_INFINITY : listGpus().length;
  if (found < s.gpus) {
    process.stdout.write(`${needsGpus('bench:train --gpus', s.gpus, found)}\n${JSON.stringify({ skipped: true, needs_gpus: s.gpus, found_gpus: found })}\n`);
    return;
  }
  const steps = Number(process.env.BENCH_TRAIN_SCALING_STEPS ?? (s.cpu ? 3 : 12));
  const warmup = Number(process.env.BENCH_TRAIN_SCALING_WARMUP ?? (s.cpu ? 1 : 3));
  const maxLength = s.cpu ? 256 : 2048;
  const batch = s.cpu ? 1 : 8;
  const python = s.install();
  rmSync(WORK, { recursive: true, force: true });
  const dir = model(s.cpu, python);
  const data = prepareData(join(WORK, 'data'), dir, maxLength, 8, 200).find((d) => d.name === 'dummy')!;
  const results: Array<RunnerResult & { n: number }> = [];
  const fastchatPython = s.cpu ? '' : s.install('--fastchat');
  for (const n of countsUpTo(s.gpus)) {
    const fsdp = n > 1 ? ['--fsdp', 'full_shard auto_wrap'] : [];
    const device = s.cpu ? ['--device', 'cpu', '--threads', '1'] : ['--device', 'cuda', '--bf16'];
    const ours = s.run(`fleetchat × ${n}`, process.execPath, ['-r', '@swc-node/register', join(ROOT, 'src/cli/main.ts'), 'jobs', 'train', '--model-name-or-path', dir, '--data-path', data.sft,
      '--output-dir', join(WORK, `ours-${n}`), '--max-steps', String(warmup + steps), '--per-device-train-batch-size', String(batch), '--model-max-length', String(maxLength),
      '--nproc-per-node', String(n), ...fsdp, ...device, '--learning-rate', '2e-5', '--resume', 'false', '--loss-svg', 'false', '--json']);
    results.push({ ...summarise('fleetchat', 'dummy', ours, warmup), n });
    if (s.cpu) continue;
    const helpers = join(__dirname, 'python');
    const fc = s.run(`FastChat train.py × ${n}`, fastchatPython, ['-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', String(n), join(helpers, 'fastchat_launch.py'),
      '--model_name_or_path', dir, '--data_path', data.sharegpt, '--output_dir', join(WORK, `fc-${n}`), '--bf16', 'True', '--max_steps', String(warmup + steps),
      '--per_device_train_batch_size', String(batch), '--model_max_length', String(maxLength), '--learning_rate', '2e-5', '--save_strategy', 'no', '--report_to', 'none',
      '--logging_steps', '1', '--disable_tqdm', 'True', '--fsdp', 'full_shard auto_wrap', '--fsdp_transformer_layer_cls_to_wrap', 'LlamaDecoderLayer'], { PYTHONPATH: helpers });
    results.push({ ...summarise('fastchat', 'dummy', fc, warmup), n });
  }
  report(s, results, s.cpu ? 'CPU here (gloo, tiny model, seq 256, 1 row per process; a smoke check)' : `${s.gpus}-GPU host: ${listGpus()[0].name}; SmolLM2-135M shape, seq 2048, 8 rows per GPU, bf16`);
}

function report(s: ScalingRun, results: Array<RunnerResult & { n: number }>, where: string): void {
  const one = (runner: string): number | undefined => results.find((r) => r.runner === runner && r.n === 1)?.tokensPerS;
  const eff = (r: RunnerResult & { n: number }): number => r.tokensPerS / (r.n * (one(r.runner) ?? Number.NaN));
  process.stdout.write(`\nbench:train --gpus ${s.gpus} — ${where}\nrunner      processes  real tokens/s  scaling efficiency\n`);
  for (const r of results) process.stdout.write(`${r.runner.padEnd(10)}  ${String(r.n).padStart(9)}  ${Math.round(r.tokensPerS).toLocaleString('en-US').padStart(13)}  ${(eff(r) * 100).toFixed(1).padStart(17)}%\n`);
  const json: Record<string, unknown> = { device: s.cpu ? 'cpu' : 'gpu', gpus: s.gpus };
  for (const r of results) {
    const key = r.runner === 'fleetchat' ? '' : 'fastchat_';
    json[`${key}tokens_per_s_${r.n}`] = Math.round(r.tokensPerS * 10) / 10;
    if (r.n > 1) json[`${key}scaling_${r.n}`] = Math.round(eff(r) * 1000) / 1000;
  }
  process.stdout.write(`${JSON.stringify(json)}\n`);
}
