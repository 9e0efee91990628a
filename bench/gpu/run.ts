/**
 * `npm run bench:gpu`: fleetchat's engine on an NVIDIA GPU against Hugging Face transformers `generate` (PyTorch,
 * sdpa — the engine behind FastChat's model_worker) on the same GPU, the same generated LLaMA models (~114M and
 * ~1B), the same prompts and lengths, greedy; fp32 with TF32 off, then fp16. Also the CPU path, for greedy-token
 * equality CPU vs GPU. Prints a table, then one JSON line last:
 *   {gpu, decode_tok_s_b1, decode_tok_s_b32, hf_decode_tok_s_b1, hf_decode_tok_s_b32, ratio_b32, greedy_equal_cpu_gpu, ...}
 * On a machine without a GPU it says so and exits 0 (CI).
 * `--workers N`: one worker per GPU behind one controller and gateway, throughput at N against N × one worker
 * (bench/gpu/workers.ts); "needs N GPUs, found M" and exit 0 where there are fewer.
 *
 *   BENCH_MODELS (114m,1b)  BENCH_BATCHES (1,8,32,64)  BENCH_PROMPT_TOKENS (64)  BENCH_NEW_TOKENS (128)
 *   BENCH_DTYPES (fp32,fp16)  BENCH_CPU_BATCHES (1,8)  BENCH_HOST_KV (114m: the onnxruntime-node CUDA EP path too)
 *   BENCH_PYTHON (python3)  BENCH_OUT (a directory for the raw JSON lines)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';
import { listGpus } from '../../src/worker/device/gpus';
import { workersBench } from './workers';

const env = process.env;
const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((s) => s.trim()).filter((s) => s !== '');
const MODELS = list(env.BENCH_MODELS, '114m,1b');
const BATCHES = list(env.BENCH_BATCHES, '1,8,32,64').map(Number);
const CPU_BATCHES = list(env.BENCH_CPU_BATCHES, '1,8').map(Number);
const DTYPES = list(env.BENCH_DTYPES, 'fp32,fp16');
const HOST_KV = list(env.BENCH_HOST_KV, '114m');
const PROMPT = Number(env.BENCH_PROMPT_TOKENS ?? 64);
const NEW = Number(env.BENCH_NEW_TOKENS ?? 128);
const PYTHON = env.BENCH_PYTHON ?? 'python3';
const OUT = env.BENCH_OUT ?? '';
const CACHE = join(homedir(), '.cache', 'fleetchat', 'bench-gpu');

const SHAPES: Record<string, Record<string, unknown>> = {
  '114m': { preset: '100m' },
  '1b': { preset: '100m', layers: 16, hidden: 2048, heads: 32, kvHeads: 8, intermediate: 5632, tieEmbeddings: false },
};

interface Result {
  kind: 'result';
  batch: number;
  ttft_ms: number;
  prefill_tok_s: number;
  decode_tok_s: number;
  step_ms_early?: number;
  step_ms_late?: number;
  tokens: number[][];
}

/** A sibling script: `.js` next to a bundle, or the TypeScript source through @swc-node/register. */
function sibling(name: string): { file: string; execArgv: string[] } {
  const ext = extname(__filename);
  const file = join(__dirname, `${name}${ext}`);
  const execArgv = ext === '.ts' && !process.execArgv.some((a) => a.includes('@swc-node/register')) ? [...process.execArgv, '-r', '@swc-node/register'] : process.execArgv;
  return { file, execArgv };
}

function runLines(cmd: string, args: string[], label: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      if (OUT) appendFileSync(join(OUT, 'bench-gpu.jsonl'), lines.map((l) => JSON.stringify({ label, ...l, tokens: undefined })).join('\n') + '\n');
      if (code === 0) resolve(lines);
      else reject(new Error(`${label} exited ${code}: ${err.slice(-3000)}`));
    });
  });
}

async function ensureModel(name: string): Promise<string> {
  const dir = join(CACHE, `${name}-v3`);
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const { file, execArgv } = sibling('create-model');
  await runLines(process.execPath, [...execArgv, file, JSON.stringify({ ...SHAPES[name], outDir: dir })], `create ${name}`);
  return dir;
}

async function ensureFp16(dir: string): Promise<boolean> {
  if (existsSync(join(dir, 'onnx', 'model_fp16.onnx'))) return true;
  try {
    await runLines(PYTHON, [join(__dirname, 'to_fp16.py'), dir], 'to_fp16');
    return true;
  } catch (err) {
    process.stderr.write(`bench:gpu: no fp16 graph: ${(err as Error).message.slice(0, 400)}\n`);
    return false;
  }
}

async function engine(label: string, args: Record<string, unknown>): Promise<Result[]> {
  const { file, execArgv } = sibling('engine-bench');
  const lines = await runLines(process.execPath, [...execArgv, file, JSON.stringify({ promptLen: PROMPT, newTokens: NEW, threads: 8, ...args })], label);
  const info = lines.find((l) => l.kind === 'info');
  process.stderr.write(`  ${label}: ${JSON.stringify(info)}\n`);
  return lines.filter((l) => l.kind === 'result') as unknown as Result[];
}

async function peer(label: string, dir: string, dtype: string): Promise<Result[]> {
  const lines = await runLines(PYTHON, [join(__dirname, 'hf_peer.py'), JSON.stringify({ model: dir, dtype, batches: BATCHES, promptLen: PROMPT, newTokens: NEW })], label, { PYTHONUNBUFFERED: '1' });
  return lines.filter((l) => l.kind === 'result') as unknown as Result[];
}

type Row = { model: string; path: string; dtype: string; r: Result };

/** fleetchat on CUDA (KV on the GPU; onnxruntime-node's CUDA EP if that fails), the CPU path and greedy equality. */
async function measureOurs(name: string, dir: string, dtype: string, rows: Row[], equality: Record<string, boolean>): Promise<void> {
  const weights = dtype === 'fp16' ? 'fp16' : 'fp32';
  const add = (path: string, rs: Result[]): void => rs.forEach((r) => rows.push({ model: name, path, dtype, r }));
  let ours: Result[];
  try {
    ours = await engine(`${name} ${dtype} cuda`, { model: dir, device: 'cuda', batches: BATCHES, weights });
    add('fleetchat cuda (KV on GPU)', ours);
  } catch (err) {
    process.stderr.write(`bench:gpu: ${name} ${dtype} with the KV cache on the GPU failed, measuring onnxruntime-node's CUDA EP instead: ${(err as Error).message.slice(0, 2000)}\n`);
    try {
      ours = await engine(`${name} ${dtype} cuda host-kv`, { model: dir, device: 'cuda', batches: BATCHES.filter((b) => b <= 8), weights, nativeKv: false });
      add('onnxruntime-node cuda (KV via host)', ours);
    } catch (err2) {
      process.stderr.write(`bench:gpu: ${name} ${dtype} fleetchat failed: ${(err2 as Error).message.slice(0, 2000)}\n`);
      return;
    }
  }
  if (dtype !== 'fp32') return;
  try {
    const cpu = await engine(`${name} fp32 cpu`, { model: dir, device: 'cpu', batches: CPU_BATCHES, weights, threads: 16 });
    add('fleetchat cpu', cpu);
    equality[name] = cpu.every((c) => JSON.stringify(ours.find((o) => o.batch === c.batch)?.tokens) === JSON.stringify(c.tokens));
    if (HOST_KV.includes(name) && !rows.some((x) => x.model === name && x.path.startsWith('onnxruntime-node'))) {
      add('onnxruntime-node cuda (KV via host)', await engine(`${name} fp32 cuda host-kv`, { model: dir, device: 'cuda', batches: BATCHES.filter((b) => b <= 32), weights, nativeKv: false }));
    }
  } catch (err) {
    process.stderr.write(`bench:gpu: ${name} cpu / host-kv failed: ${(err as Error).message.slice(0, 2000)}\n`);
  }
}

const fmt = (x: number | undefined, d = 0): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--workers');
  if (at >= 0) {
    const n = Number(argv[at + 1]);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--workers: expected a number of GPUs (1-64), got '${argv[at + 1] ?? ''}'`);
    const name = MODELS.includes('1b') ? '1b' : MODELS[0];
    // the model is generated only where the GPUs are there to serve it
    await workersBench(n, listGpus().length >= n ? await ensureModel(name) : '', name);
    return;
  }
  const gpus = listGpus();
  if (gpus.length === 0) {
    process.stdout.write('bench:gpu: skipped — no NVIDIA GPU here (nvidia-smi and /proc/driver/nvidia show none); run it on a GPU machine with the GPU runtime installed (scripts/install-gpu-runtime)\n');
    process.stdout.write(`${JSON.stringify({ skipped: true, reason: 'no NVIDIA GPU' })}\n`);
    return;
  }
  if (OUT) mkdirSync(OUT, { recursive: true });
  const gpu = `${gpus[0].name} (${(gpus[0].memoryBytes / 2 ** 30).toFixed(0)} GiB)`;
  process.stderr.write(`bench:gpu on ${gpu}: models ${MODELS.join(', ')}, batches ${BATCHES.join('/')}, prompt ${PROMPT}, new ${NEW}\n`);
  const rows: Row[] = [];
  const equality: Record<string, boolean> = {};
  // fp32 of every model first, then fp16 (the conversion is the slow part).
  for (const dtype of DTYPES) {
    for (const name of MODELS) {
      const dir = await ensureModel(name);
      if (dtype === 'fp16' && !(await ensureFp16(dir))) continue;
      await measureOurs(name, dir, dtype, rows, equality);
      try {
        const hf = await peer(`${name} ${dtype} hf`, dir, dtype === 'fp16' ? 'float16' : 'float32');
        hf.forEach((r) => rows.push({ model: name, path: 'transformers generate', dtype, r }));
      } catch (err) {
        process.stderr.write(`bench:gpu: ${name} ${dtype} transformers failed: ${(err as Error).message.slice(0, 2000)}\n`);
      }
    }
  }
  process.stdout.write(`\nbench:gpu — ${gpu}; prompt ${PROMPT} tokens, ${NEW} new tokens per row, greedy\n`);
  process.stdout.write('model  dtype  path                                 batch  TTFT ms  prefill tok/s  decode tok/s  step ms early/late\n');
  for (const { model, path, dtype, r } of rows) {
    process.stdout.write(`${model.padEnd(6)} ${dtype.padEnd(6)} ${path.padEnd(36)} ${String(r.batch).padStart(5)} ${fmt(r.ttft_ms, 1).padStart(8)} ${fmt(r.prefill_tok_s).padStart(14)} ${fmt(r.decode_tok_s).padStart(13)}  ${fmt(r.step_ms_early, 2)}/${fmt(r.step_ms_late, 2)}\n`);
  }
  const pick = (model: string, path: string, dtype: string, batch: number): number | undefined => rows.find((x) => x.model === model && x.path === path && x.dtype === dtype && x.r.batch === batch)?.r.decode_tok_s;
  const main1b = MODELS.includes('1b') ? '1b' : MODELS[0];
  const ours32 = pick(main1b, 'fleetchat cuda (KV on GPU)', 'fp32', 32);
  const hf32 = pick(main1b, 'transformers generate', 'fp32', 32);
  const summary = {
    gpu, model: main1b, dtype: 'fp32',
    decode_tok_s_b1: pick(main1b, 'fleetchat cuda (KV on GPU)', 'fp32', 1), decode_tok_s_b32: ours32,
    hf_decode_tok_s_b1: pick(main1b, 'transformers generate', 'fp32', 1), hf_decode_tok_s_b32: hf32,
    ratio_b32: ours32 !== undefined && hf32 !== undefined ? ours32 / hf32 : undefined,
    fp16_decode_tok_s_b32: pick(main1b, 'fleetchat cuda (KV on GPU)', 'fp16', 32), hf_fp16_decode_tok_s_b32: pick(main1b, 'transformers generate', 'fp16', 32),
    greedy_equal_cpu_gpu: equality,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:gpu: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
