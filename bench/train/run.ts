/**
 * `npm run bench:train`: real (non-padding) tokens per second and peak memory of fleetchat's trainer against
 * FastChat's own fastchat/train/train.py (fschat 0.2.36) and a naive packed transformers Trainer (samples
 * concatenated into rows, attending across sample boundaries), same model, data, sequence length and batch, on
 * FastChat's dummy conversations and on longer ShareGPT-like ones. Table, then one JSON line.
 *
 *   npm run bench:train                                  the CPU here (generated tiny model; both venvs from
 *                                                        scripts/install-train-runtime [--fastchat])
 *   npm run bench:train -- --prepare-device DIR          write the folder a GPU machine runs (DIR/run-gpu.sh)
 *   npm run bench:train -- --device-results RESULTS.jsonl [META.json] [GPU.txt]
 *                                                        table + JSON line from that run's results (MFU against the
 *                                                        H100/H200 dense bf16 peak, 989 TFLOP/s); recorded runs are
 *                                                        in bench/train/results/
 *
 *   npm run bench:train -- --gpus N [--device cpu]      scaling over N GPUs of this host, fleetchat (FSDP) and
 *                                                        FastChat's train.py under torchrun + FSDP (bench/train/scaling.ts)
 *
 *   BENCH_TRAIN_STEPS=4 BENCH_TRAIN_WARMUP=1 BENCH_TRAIN_BATCH=2 BENCH_TRAIN_MAX_LENGTH=1024   (CPU run)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGpuScript } from './gpu-script';
import { scalingBench } from './scaling';
import { attentionSpan, cli, prepareData, ROOT, type BenchData } from './prepare';
import { figures, flopsPerToken, H100_BF16_PEAK, summarise, table, type ModelShape, type RunnerResult, type StepLine } from './report';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const WORK = join(ROOT, '.cache/bench-train');
const SMOLLM2_SHAPE = { num_hidden_layers: 30, hidden_size: 576, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, intermediate_size: 1536, max_position_embeddings: 2048, rope_theta: 100000, tie_word_embeddings: true };

function install(flag?: string): string {
  return execFileSync(join(ROOT, 'scripts/install-train-runtime'), flag ? [flag] : [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function jsonLines(text: string): StepLine[] {
  return text.split('\n').filter((l) => l.startsWith('{"')).map((l) => JSON.parse(l) as StepLine);
}

function run(label: string, command: string, args: string[], extraEnv: Record<string, string> = {}): StepLine[] {
  process.stderr.write(`bench:train: ${label}\n`);
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FLEETCHAT_LOG_LEVEL: 'warn', PYTHONUNBUFFERED: '1', ...extraEnv }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return jsonLines(r.stdout);
}

function shapeOf(configPath: string): ModelShape {
  const c = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, number>;
  return { layers: c.num_hidden_layers, hidden: c.hidden_size, heads: c.num_attention_heads, kvHeads: c.num_key_value_heads, headDim: c.head_dim ?? c.hidden_size / c.num_attention_heads, intermediate: c.intermediate_size, vocab: c.vocab_size };
}

function cpuBench(): void {
  const steps = env('BENCH_TRAIN_STEPS', 4);
  const warmup = env('BENCH_TRAIN_WARMUP', 1);
  const batch = env('BENCH_TRAIN_BATCH', 2);
  const maxLength = env('BENCH_TRAIN_MAX_LENGTH', 1024);
  const python = install();
  const fastchatPython = install('--fastchat');
  rmSync(WORK, { recursive: true, force: true });
  const model = join(WORK, 'model');
  cli(['model', 'create-tiny', '--out', model, '--preset', 'tiny']);
  const datasets = prepareData(join(WORK, 'data'), model, maxLength, 80, Math.floor(maxLength / 2));
  const total = warmup + steps;
  const results: RunnerResult[] = [];
  const helpers = join(__dirname, 'python');
  for (const d of datasets) {
    const ours = run(`fleetchat (${d.name})`, process.execPath, ['-r', '@swc-node/register', join(ROOT, 'src/cli/main.ts'), 'jobs', 'train', '--model-name-or-path', model, '--data-path', d.sft,
      '--output-dir', join(WORK, `ours-${d.name}`), '--max-steps', String(total), '--per-device-train-batch-size', String(batch), '--model-max-length', String(maxLength),
      '--resume', 'false', '--loss-svg', 'false', '--threads', '2', '--json']);
    results.push(summarise('fleetchat', d.name, ours, warmup));
    const naive = run(`naive packed Trainer (${d.name})`, python, [join(helpers, 'naive_packed.py'), model, d.sft, '--model-max-length', String(maxLength), '--batch', String(batch), '--max-steps', String(total), '--cpu', '--output-dir', join(WORK, 'naive')]);
    results.push(summarise('naive_packed', d.name, naive, warmup));
    const fc = run(`FastChat train.py (${d.name})`, fastchatPython, [join(helpers, 'fastchat_launch.py'), '--model_name_or_path', model, '--data_path', d.sharegpt, '--output_dir', join(WORK, 'fc'),
      '--max_steps', String(total), '--per_device_train_batch_size', String(batch), '--model_max_length', String(maxLength), '--save_strategy', 'no', '--report_to', 'none',
      '--logging_steps', '1', '--use_cpu', 'True', '--disable_tqdm', 'True'], { PYTHONPATH: helpers });
    results.push(summarise('fastchat', d.name, fc, warmup));
  }
  const device = `CPU here (2 shared cores), generated tiny model (3.3M parameters), sequence length ${maxLength}, batch ${batch}, fp32, ${steps} measured steps after ${warmup}`;
  report(device, results, 'fleetchat', () => undefined, { device: 'cpu' });
}

function prepareDevice(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'model-config'), { recursive: true });
  const tiny = join(WORK, 'tokenizer-model');
  if (!existsSync(join(tiny, 'tokenizer.json'))) cli(['model', 'create-tiny', '--out', tiny, '--preset', 'tiny']);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']) copyFileSync(join(tiny, f), join(dir, 'model-config', f));
  const config = { ...(JSON.parse(readFileSync(join(tiny, 'config.json'), 'utf8')) as Record<string, unknown>), ...SMOLLM2_SHAPE };
  writeFileSync(join(dir, 'model-config', 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const datasets: BenchData[] = prepareData(join(dir, 'data'), tiny, 2048, 600, 1300);
  const spans = Object.fromEntries(datasets.map((d) => [d.name, attentionSpan(d.sft)]));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ spans, shape: shapeOf(join(dir, 'model-config', 'config.json')) }));
  for (const d of datasets) rmSync(`${d.sft}.report.jsonl`, { force: true });
  mkdirSync(join(dir, 'wheels'));
  const cache = join(process.env.FLEETCHAT_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/fleetchat'), 'wheels');
  for (const f of readdirSync(cache).filter((n) => /^(fschat-0\.2\.36|transformers-4\.46\.3|huggingface_hub-0\.26\.5|accelerate-1\.1\.1)-/.test(n))) copyFileSync(join(cache, f), join(dir, 'wheels', f));
  execFileSync('python3', ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--python-version', '3.12', '--implementation', 'cp',
    '--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux2014_x86_64', '-d', join(dir, 'wheels'), 'tokenizers==0.20.3'], { stdio: 'inherit' });
  writeGpuScript(dir, { steps: env('BENCH_TRAIN_GPU_STEPS', 18), batch: 8, maxLength: 2048 });
  process.stdout.write(`wrote ${dir}: run it on the GPU machine with  bash ${dir}/run-gpu.sh  (results in $OUT/results.jsonl)\n`);
}

/** Runner names of run-gpu.sh -> table labels. */
const GPU_LABELS: Record<string, string> = {
  'ours-varlen-compile': 'fleetchat --compile',
  'ours-varlen': 'fleetchat',
  'ours-sdpa': 'fleetchat --attention sdpa',
  naive_packed: 'naive_packed',
  fastchat: 'fastchat',
};

/** `resultsFile`: the device run's results.jsonl; `metaFile`: the meta.json --prepare-device wrote (spans, shape). */
function deviceResults(resultsFile: string, metaFile: string, gpuFile: string | undefined): void {
  const warmup = env('BENCH_TRAIN_GPU_WARMUP', 3);
  const lines = jsonLines(readFileSync(resultsFile, 'utf8')) as Array<StepLine & { run: string; data: string }>;
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { spans: Record<string, number>; shape: ModelShape };
  const shape = meta.shape;
  const results: RunnerResult[] = [];
  for (const data of ['dummy', 'long']) {
    for (const [runner, label] of Object.entries(GPU_LABELS)) {
      const own = lines.filter((l) => l.run === runner && l.data === data);
      if (own.length > 0) results.push(summarise(label, data, own, warmup));
    }
  }
  const gpu = gpuFile && existsSync(gpuFile) ? readFileSync(gpuFile, 'utf8').trim().replace(/\n/g, '; ') : 'GPU';
  const mfu = (r: RunnerResult): number => (r.tokensPerS * flopsPerToken(shape, meta.spans[r.data])) / H100_BF16_PEAK;
  const ours = results.some((r) => r.runner === GPU_LABELS['ours-varlen-compile']) ? GPU_LABELS['ours-varlen-compile'] : GPU_LABELS['ours-varlen'];
  report(`${gpu}; SmolLM2-135M shape (random weights, GPT-2 vocabulary), sequence length 2048, batch 8, bf16`, results, ours, mfu, { device: 'gpu', gpu, ours });
}

function report(device: string, results: RunnerResult[], ours: string, mfuOf: (r: RunnerResult) => number | undefined, extra: Record<string, string>): void {
  process.stdout.write(`${table(device, results, mfuOf)}\n`);
  const json = { ...extra, dummy: figures(results, 'dummy', ours, mfuOf), long: figures(results, 'long', ours, mfuOf) };
  process.stdout.write(`${JSON.stringify({ ...json, tokens_per_s: json.dummy.tokens_per_s, fastchat_tokens_per_s: json.dummy.fastchat_tokens_per_s, ratio: json.dummy.ratio, mfu: json.dummy.mfu })}\n`);
}

const argv = process.argv.slice(2);
const gpusAt = argv.indexOf('--gpus');
if (gpusAt >= 0) {
  const gpus = Number(argv[gpusAt + 1]);
  if (!Number.isInteger(gpus) || gpus < 1 || gpus > 64) throw new Error(`--gpus: expected a number of GPUs (1-64), got '${argv[gpusAt + 1] ?? ''}'`);
  const cpu = argv[argv.indexOf('--device') + 1] === 'cpu' && argv.includes('--device');
  scalingBench({ gpus, cpu, install, run });
} else if (argv[0] === '--prepare-device') prepareDevice(argv[1] ?? join(ROOT, '.train'));
else if (argv[0] === '--device-results') deviceResults(argv[1], argv[2] ?? join(__dirname, 'results/meta.json'), argv[3]);
else cpuBench();
