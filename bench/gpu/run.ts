/**
 * `npm run bench:gpu`: fleetchat's engine on an NVIDIA GPU against Hugging Face transformers `generate` (PyTorch,
 * sdpa — the engine behind FastChat's model_worker) on the same GPU, the same generated LLaMA models (~114M and
 * ~1B; SmolLM2-135M from its GGUF), the same prompts and lengths, greedy; fp32 with TF32 off, then fp16. Also the CPU path, for greedy-token
 * equality CPU vs GPU. Prints a table, then one JSON line last:
 *   {gpu, decode_tok_s_b1, decode_tok_s_b32, hf_decode_tok_s_b1, hf_decode_tok_s_b32, ratio_b32, greedy_equal_cpu_gpu, ...}
 * On a machine without a GPU it says so and exits 0 (CI).
 * `--workers N`: one worker per GPU behind one controller and gateway, throughput at N against N × one worker
 * (bench/gpu/workers.ts); "needs N GPUs, found M" and exit 0 where there are fewer.
 *
 * Graphs: `standard` (opset-17 ops; fp32, and fp16 from onnxruntime's converter) and `fused` (GroupQueryAttention with
 * the KV pool in CUDA memory written in place, Skip/SimplifiedLayerNormalization; fp16, written by the generator with
 * --graph fused --weights fp16). Each row reports the forward pass alone (forward ms) and the whole step (step ms),
 * and the share of its greedy tokens equal to fleetchat fp32's on the same prompts (agree %: fp16 may differ).
 * A variant that fails prints its error in its row; the run goes on.
 *
 *   BENCH_MODELS (114m,1b; also smollm2: SmolLM2-135M-Instruct imported from BENCH_SMOLLM2_GGUF, default the file
 *   `npm run fetch:smollm2` writes — standard fp32 + model.safetensors for transformers, fused fp16, fused-mha fp32)
 *   BENCH_BATCHES (1,8,32,64)  BENCH_PROMPT_TOKENS (64)  BENCH_NEW_TOKENS (128)
 * `fused-graph` is the fused fp16 graph with its decode steps captured and replayed as CUDA graphs (--cuda-graph).
 * `fused-mha` is the fused graph for float32 (--graph fused-mha: ONNX Attention over a KV pool written in place by
 * TensorScatter; GroupQueryAttention has no float32 CUDA kernel), `fused-mha-graph` the same with --cuda-graph; both
 * are compared with transformers fp32 and with fleetchat's standard fp32 graph (agree %).
 *
 *   BENCH_DTYPES (fp32,fp16: the standard graph)  BENCH_GRAPHS (standard,fused,fused-graph,fused-mha,fused-mha-graph)  BENCH_HF_HALF (float16,bfloat16)
 *   BENCH_STANDARD_FP16 (1; 0 = the standard graph in fp32 only: the fp16 conversion takes minutes on a 1B model)
 *   BENCH_CHILD_TIMEOUT_S (900: a variant still running then is killed and reported failed)
 *   BENCH_CPU_BATCHES (1,8)  BENCH_HOST_KV (114m: the onnxruntime-node CUDA EP path too)
 *   BENCH_PYTHON (python3)  BENCH_OUT (a directory for the raw JSON lines)
 *   BENCH_KV_MIB (fleetchat's KV budget on the GPU, --kv-cache-mib; default the GPU's memory less the weights): a
 *   fused pool's slot capacity is budget / (max batch × bytes per position), at most the context length — fused-mha's
 *   step time should not follow it (its attention kernel reads each row's valid keys only)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { listGpus } from '../../src/worker/device/gpus';
import { workersBench } from './workers';

const env = process.env;
const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((s) => s.trim()).filter((s) => s !== '');
const MODELS = list(env.BENCH_MODELS, '114m,1b');
const BATCHES = list(env.BENCH_BATCHES, '1,8,32,64').map(Number);
const CPU_BATCHES = list(env.BENCH_CPU_BATCHES, '1,8').map(Number);
const DTYPES = list(env.BENCH_DTYPES, 'fp32,fp16');
const GRAPHS = list(env.BENCH_GRAPHS, 'standard,fused,fused-graph,fused-mha,fused-mha-graph');
const STANDARD_FP16 = env.BENCH_STANDARD_FP16 !== '0';
const CHILD_TIMEOUT_MS = 1000 * Number(env.BENCH_CHILD_TIMEOUT_S ?? 900);
const HF_HALF = list(env.BENCH_HF_HALF, 'float16,bfloat16');
const HOST_KV = list(env.BENCH_HOST_KV, '114m');
const PROMPT = Number(env.BENCH_PROMPT_TOKENS ?? 64);
const NEW = Number(env.BENCH_NEW_TOKENS ?? 128);
const PYTHON = env.BENCH_PYTHON ?? 'python3';
const OUT = env.BENCH_OUT ?? '';
const KV_MIB = Number(env.BENCH_KV_MIB ?? 0);
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
  forward_ms?: number;
  step_ms?: number;
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
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (timedOut) err = `killed after ${CHILD_TIMEOUT_MS / 1000} s (BENCH_CHILD_TIMEOUT_S); ${err}`;
      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      if (OUT) appendFileSync(join(OUT, 'bench-gpu.jsonl'), lines.map((l) => JSON.stringify({ label, ...l, tokens: undefined })).join('\n') + '\n');
      if (code === 0) resolve(lines);
      else reject(new Error(`${label} exited ${code}: ${err.slice(-3000)}`));
    });
  });
}

/** BENCH_SMOLLM2_GGUF: SmolLM2-135M-Instruct's GGUF (`npm run fetch:smollm2`), imported on this machine. */
const SMOLLM2_GGUF = env.BENCH_SMOLLM2_GGUF ? resolve(env.BENCH_SMOLLM2_GGUF) : join(homedir(), '.cache', 'fleetchat', 'smollm2', 'SmolLM2-135M-Instruct.Q4_1.gguf');

/** A model directory (cached under CACHE): generated from SHAPES, or imported from the GGUF for `smollm2`. */
async function ensureDir(name: string, suffix: string, file: string, options: Record<string, unknown>, label: string): Promise<string> {
  const dir = join(CACHE, `${name}${suffix}`);
  if (existsSync(join(dir, 'onnx', file))) return dir;
  mkdirSync(CACHE, { recursive: true });
  if (name === 'smollm2') {
    if (!existsSync(SMOLLM2_GGUF)) throw new Error(`smollm2: no GGUF at ${SMOLLM2_GGUF} (set BENCH_SMOLLM2_GGUF, or run npm run fetch:smollm2)`);
    const { file: script, execArgv } = sibling('import-model');
    await runLines(process.execPath, [...execArgv, script, JSON.stringify({ file: SMOLLM2_GGUF, outDir: dir, ...options })], `import ${label}`);
    return dir;
  }
  if (SHAPES[name] === undefined) throw new Error(`unknown model '${name}' (BENCH_MODELS: ${[...Object.keys(SHAPES), 'smollm2'].join(', ')})`);
  const { file: script, execArgv } = sibling('create-model');
  await runLines(process.execPath, [...execArgv, script, JSON.stringify({ ...SHAPES[name], ...options, outDir: dir })], `create ${label}`);
  return dir;
}

/** The standard fp32 graph and model.safetensors (config.json + LlamaForCausalLM names: what hf_peer.py loads). */
function ensureModel(name: string): Promise<string> {
  return ensureDir(name, '-v3', 'model.onnx', name === 'smollm2' ? { safetensors: true } : {}, name);
}

/** The same weights (same shape and seed) as a fused graph in fp16 only: onnx/model_fp16.onnx, no safetensors. */
function ensureFusedModel(name: string): Promise<string> {
  return ensureDir(name, '-fused-fp16-v3', 'model_fp16.onnx', { graph: 'fused', weightFormats: ['fp16'], safetensors: false }, `${name} fused fp16`);
}

/** The same weights as the float32 fused graph for CUDA (--graph fused-mha): onnx/model.onnx, no safetensors. */
function ensureFusedMhaModel(name: string): Promise<string> {
  return ensureDir(name, '-fused-mha-fp32-v4', 'model.onnx', { graph: 'fused-mha', weightFormats: ['fp32'], safetensors: false }, `${name} fused-mha fp32`);
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
  const lines = await runLines(process.execPath, [...execArgv, file, JSON.stringify({ promptLen: PROMPT, newTokens: NEW, threads: 8, ...(KV_MIB > 0 ? { kvMib: KV_MIB } : {}), ...args })], label);
  const info = lines.find((l) => l.kind === 'info');
  process.stderr.write(`  ${label}: ${JSON.stringify(info)}\n`);
  return lines.filter((l) => l.kind === 'result') as unknown as Result[];
}

/** transformers' two ways to decode: `generate`, and the model's forward pass in a greedy loop (FastChat's generate_stream). */
const HF_GENERATE = 'transformers generate';
const HF_LOOP = 'transformers forward loop';

async function peer(label: string, dir: string, dtype: string): Promise<Array<{ path: string; r: Result }>> {
  const lines = await runLines(PYTHON, [join(__dirname, 'hf_peer.py'), JSON.stringify({ model: dir, dtype, batches: BATCHES, promptLen: PROMPT, newTokens: NEW })], label, { PYTHONUNBUFFERED: '1' });
  return lines.filter((l) => l.kind === 'result').map((l) => ({ path: l.mode === 'loop' ? HF_LOOP : HF_GENERATE, r: l as unknown as Result }));
}

type Row = { model: string; path: string; dtype: string; r: Result; error?: string };

const FAILED: Result = { kind: 'result', batch: 0, ttft_ms: NaN, prefill_tok_s: NaN, decode_tok_s: NaN, tokens: [] };

/** A variant that failed: its error goes into the table (and stderr) and the run goes on. */
function failed(rows: Row[], model: string, path: string, dtype: string, err: unknown): void {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
  process.stderr.write(`bench:gpu: ${model} ${dtype} ${path} failed: ${message.slice(0, 2000)}\n`);
  rows.push({ model, path, dtype, r: FAILED, error: message.slice(0, 160) });
}

/** Share of greedy tokens equal to the reference rows of the same batch size (same prompts), or undefined. */
function agreement(r: Result, reference: Result | undefined): number | undefined {
  if (!reference || r.tokens.length === 0) return undefined;
  let same = 0;
  let total = 0;
  r.tokens.forEach((row, i) => {
    const ref = reference.tokens[i] ?? [];
    row.forEach((t, k) => {
      total++;
      if (ref[k] === t) same++;
    });
  });
  return total === 0 ? undefined : same / total;
}

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
      failed(rows, name, 'fleetchat cuda', dtype, err2);
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
    failed(rows, name, 'fleetchat cpu / host-kv', dtype, err);
  }
}

const FUSED_PATH = 'fleetchat cuda fused (GQA, KV in place)';
const FUSED_GRAPH_PATH = 'fleetchat cuda fused + CUDA graphs';
const FUSED_MHA_PATH = 'fleetchat cuda fused-mha (fp32)';
const FUSED_MHA_GRAPH_PATH = 'fleetchat cuda fused-mha + CUDA graphs';

/** The float32 fused graph's figures at every batch size, with its ratio to transformers fp32 and to the standard graph. */
function fusedMhaSummary(model: string, find: (model: string, path: string, dtype: string, batch: number) => Row | undefined, agree: (x: Row) => number | undefined): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const [path, key] of [[FUSED_MHA_PATH, 'fused_mha_fp32'], [FUSED_MHA_GRAPH_PATH, 'fused_mha_graph_fp32']] as const) {
    for (const b of BATCHES) {
      const row = find(model, path, 'fp32', b);
      if (!row) continue;
      const hf = Math.max(...[HF_GENERATE, HF_LOOP].map((p) => find(model, p, 'fp32', b)?.r.decode_tok_s ?? 0));
      const standard = find(model, 'fleetchat cuda (KV on GPU)', 'fp32', b)?.r.decode_tok_s;
      out[`${key}_decode_tok_s_b${b}`] = row.r.decode_tok_s;
      out[`${key}_forward_ms_b${b}`] = row.r.forward_ms;
      out[`${key}_step_ms_b${b}`] = row.r.step_ms;
      out[`${key}_agree_b${b}`] = agree(row);
      out[`${key}_ratio_vs_hf_fp32_b${b}`] = hf > 0 ? row.r.decode_tok_s / hf : undefined;
      out[`${key}_ratio_vs_standard_b${b}`] = standard ? row.r.decode_tok_s / standard : undefined;
    }
  }
  return out;
}

/** The fused fp16 graph's figures at every batch size, with its ratio to transformers in half precision. */
function fusedSummary(model: string, find: (model: string, path: string, dtype: string, batch: number) => Row | undefined, agree: (x: Row) => number | undefined): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const [path, key] of [[FUSED_PATH, 'fused_fp16'], [FUSED_GRAPH_PATH, 'fused_graph_fp16']] as const) {
    for (const b of BATCHES) {
      const row = find(model, path, 'fp16', b);
      if (!row) continue;
      const hf = Math.max(...[HF_GENERATE, HF_LOOP].flatMap((p) => ['fp16', 'bf16'].map((d) => find(model, p, d, b)?.r.decode_tok_s ?? 0)));
      out[`${key}_decode_tok_s_b${b}`] = row.r.decode_tok_s;
      out[`${key}_forward_ms_b${b}`] = row.r.forward_ms;
      out[`${key}_step_ms_b${b}`] = row.r.step_ms;
      out[`${key}_agree_b${b}`] = agree(row);
      out[`${key}_ratio_vs_hf_half_b${b}`] = hf > 0 ? row.r.decode_tok_s / hf : undefined;
    }
  }
  return out;
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
  // fp32 of every model first, then fp16 (the conversion is the slow part), then the fused fp16 graph.
  for (const dtype of DTYPES) {
    for (const name of MODELS) {
      let dir: string;
      try {
        dir = await ensureModel(name);
      } catch (err) {
        failed(rows, name, 'generate the model', dtype, err);
        continue;
      }
      if (GRAPHS.includes('standard') && (dtype !== 'fp16' || (STANDARD_FP16 && (await ensureFp16(dir))))) await measureOurs(name, dir, dtype, rows, equality);
      for (const hfDtype of dtype === 'fp16' ? HF_HALF : ['float32']) {
        const label = dtype === 'fp16' ? hfDtype.replace('float', 'fp').replace('bfloat16', 'bf16') : 'fp32';
        try {
          const hf = await peer(`${name} ${label} hf`, dir, hfDtype);
          hf.forEach(({ path, r }) => rows.push({ model: name, path, dtype: label, r }));
        } catch (err) {
          failed(rows, name, HF_GENERATE, label, err);
        }
      }
    }
  }
  // The fused graphs: GroupQueryAttention in fp16, ONNX Attention (fused-mha) in fp32; each with and without CUDA graphs.
  const fusedVariants = [
    { graph: 'fused', path: FUSED_PATH, cudaGraph: false, dtype: 'fp16', ensure: ensureFusedModel },
    { graph: 'fused-graph', path: FUSED_GRAPH_PATH, cudaGraph: true, dtype: 'fp16', ensure: ensureFusedModel },
    { graph: 'fused-mha', path: FUSED_MHA_PATH, cudaGraph: false, dtype: 'fp32', ensure: ensureFusedMhaModel },
    { graph: 'fused-mha-graph', path: FUSED_MHA_GRAPH_PATH, cudaGraph: true, dtype: 'fp32', ensure: ensureFusedMhaModel },
  ] as const;
  for (const { graph, path, cudaGraph, dtype, ensure } of fusedVariants) {
    if (!GRAPHS.includes(graph)) continue;
    for (const name of MODELS) {
      try {
        const dir = await ensure(name);
        const rs = await engine(`${name} ${dtype} ${graph} cuda`, { model: dir, device: 'cuda', batches: BATCHES, weights: dtype, cudaGraph });
        rs.forEach((r) => rows.push({ model: name, path, dtype, r }));
      } catch (err) {
        failed(rows, name, path, dtype, err);
      }
    }
  }
  process.stdout.write(`\nbench:gpu — ${gpu}; prompt ${PROMPT} tokens, ${NEW} new tokens per row, greedy\n`);
  // Agreement with fleetchat fp32 on the GPU (standard graph, TF32 off: equal to the CPU's), else the CPU path.
  const reference = (model: string, batch: number): Result | undefined =>
    rows.find((x) => x.model === model && x.dtype === 'fp32' && x.path === 'fleetchat cuda (KV on GPU)' && x.r.batch === batch)?.r ?? rows.find((x) => x.model === model && x.path === 'fleetchat cpu' && x.r.batch === batch)?.r;
  const agree = (x: Row): number | undefined => (x.path.startsWith('transformers') ? undefined : agreement(x.r, reference(x.model, x.r.batch)));
  process.stdout.write('model  dtype  path                                 batch  TTFT ms  prefill tok/s  decode tok/s  forward ms  step ms  step ms early/late  agree %\n');
  for (const x of rows) {
    const { model, path, dtype, r } = x;
    if (x.error !== undefined) {
      process.stdout.write(`${model.padEnd(6)} ${dtype.padEnd(6)} ${path.padEnd(36)} FAILED: ${x.error}\n`);
      continue;
    }
    const a = agree(x);
    process.stdout.write(`${model.padEnd(6)} ${dtype.padEnd(6)} ${path.padEnd(36)} ${String(r.batch).padStart(5)} ${fmt(r.ttft_ms, 1).padStart(8)} ${fmt(r.prefill_tok_s).padStart(14)} ${fmt(r.decode_tok_s).padStart(13)} ${fmt(r.forward_ms, 2).padStart(11)} ${fmt(r.step_ms, 2).padStart(8)}  ${`${fmt(r.step_ms_early, 2)}/${fmt(r.step_ms_late, 2)}`.padStart(18)}  ${a === undefined ? '-' : (100 * a).toFixed(1)}\n`);
  }
  const find = (model: string, path: string, dtype: string, batch: number): Row | undefined => rows.find((x) => x.model === model && x.path === path && x.dtype === dtype && x.r.batch === batch && x.error === undefined);
  const pick = (model: string, path: string, dtype: string, batch: number): number | undefined => find(model, path, dtype, batch)?.r.decode_tok_s;
  const main1b = MODELS.includes('1b') ? '1b' : MODELS[0];
  const ours32 = pick(main1b, 'fleetchat cuda (KV on GPU)', 'fp32', 32);
  // the peer's figure: the faster of transformers' generate and its forward loop
  const hfBest = (dtype: string, batch: number): number | undefined => {
    const xs = [pick(main1b, HF_GENERATE, dtype, batch), pick(main1b, HF_LOOP, dtype, batch)].filter((x): x is number => x !== undefined);
    return xs.length > 0 ? Math.max(...xs) : undefined;
  };
  const hf32 = hfBest('fp32', 32);
  const summary = {
    gpu, model: main1b, dtype: 'fp32',
    decode_tok_s_b1: pick(main1b, 'fleetchat cuda (KV on GPU)', 'fp32', 1), decode_tok_s_b32: ours32,
    hf_decode_tok_s_b1: hfBest('fp32', 1), hf_decode_tok_s_b32: hf32,
    ratio_b32: ours32 !== undefined && hf32 !== undefined ? ours32 / hf32 : undefined,
    fp16_decode_tok_s_b32: pick(main1b, 'fleetchat cuda (KV on GPU)', 'fp16', 32), hf_fp16_decode_tok_s_b32: hfBest('fp16', 32),
    hf_bf16_decode_tok_s_b32: hfBest('bf16', 32),
    ...fusedSummary(main1b, find, agree),
    ...fusedMhaSummary(main1b, find, agree),
    greedy_equal_cpu_gpu: equality,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:gpu: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
