/**
 * `npm run bench:fused-profile`: where a fused decode step's time goes, at 100 and 2,000 cached positions.
 * SmolLM2-135M-Instruct imported with `--graph fused` (int4 = the GGUF's Q4_1 blocks; BENCH_WEIGHTS=int8 for the
 * other), one stream (batch 1), BENCH_THREADS (default 1, as bench:real), BENCH_ATTENTION (GroupQueryAttention's
 * kernel: `fleetchat`, the addon's and the worker's default, or `onnxruntime`), BENCH_KV_CACHE (fp32, or fp16: the
 * int4 graph imported with `--kv-cache fp16`, on the addon's kernel only). For each context it measures
 *   - engine step: the worker's engine (session thread, messages, sampling) — what a user sees per token — with its
 *     greedy runs (fused-decode.ts: passes chained in the session thread) and with them off (a round trip between
 *     the threads per pass);
 *   - runBound pass: the same pass through the addon's runBound in this thread (onnxruntime + binding, no engine),
 *     over a slot of the engine's capacity;
 * Like the engine's step (context-steps.ts: the time from the first token to the last over the tokens), the pass
 * time is a mean over the timed passes, so that the difference is the engine's own cost, not median against mean.
 *   - kernels: onnxruntime's profiler (through the addon, the same bound pool) summed per operator type per pass,
 *     and the profiled run's own duration (kernels + the executor between them).
 * The cache's values do not change a pass's time, so the passes run over a pool filled with a constant (written
 * memory: an untouched page would be the kernel's zero page, read from cache) at the given lengths.
 * Prints a table and one JSON line last.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { silentLogger } from '../../src/common/log';
import { openNativeBoundRunner, type AttentionKernel } from '../../src/worker/engine/native-session';
import type { BoundRunner } from '../../src/worker/engine/fused-kv-pool';
import { discoverKv, type KvSpec } from '../../src/worker/engine/session';
import { boundPasses } from './bound-passes';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import { stepTimes } from './context-steps';
import { fetchSmolLM2Gguf } from '../support/smollm2';
import { importedModel } from './imported-model';

const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const WEIGHTS = process.env.BENCH_WEIGHTS === 'int8' ? 'int8' : 'int4';
const CONTEXTS = [100, 2000];
const KV_CACHE = process.env.BENCH_KV_CACHE === 'fp16' ? 'fp16' : 'fp32';
const ATTENTION: AttentionKernel = process.env.BENCH_ATTENTION === 'onnxruntime' && KV_CACHE === 'fp32' ? 'onnxruntime' : 'fleetchat';
const STEPS = 24;
const WARMUP = 4;
/** The engine's slot capacity for SmolLM2 (its context length). */
const ENGINE_CAPACITY = 8192;

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Rounds of (engine, engine without greedy runs, addon pass) at each context, taking turns (BENCH_ROUNDS, default 3). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Decode passes at `context` cached positions (WARMUP untimed, then STEPS timed); returns each timed pass's ms. */
function passes(run: BoundRunner, kv: KvSpec, context: number, capacity: number): Promise<number[]> {
  return boundPasses(run, kv, context, capacity, { warmUp: WARMUP, steps: STEPS });
}

/** Per operator type: kernel ms per pass, over the timed passes of a profile; plus the profiled runs' ms per pass. */
function summarise(events: ProfileEvent[]): { byOp: Map<string, number>; runMs: number } {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const timed = runs.slice(WARMUP);
  const from = timed[0]?.ts ?? 0;
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const op = `${e.args?.op_name ?? '?'}${e.name.includes('lm_head') ? ' (lm_head)' : ''}`;
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000 / timed.length);
  }
  return { byOp, runMs: timed.reduce((n, r) => n + r.dur, 0) / 1000 / timed.length };
}

/** The passes at `context` through the addon with onnxruntime's profiler on (its JSON is written at release). */
async function profiled(path: string, kv: KvSpec, context: number): Promise<{ byOp: Map<string, number>; runMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-profile-'));
  try {
    const native = openNativeBoundRunner(path, THREADS, join(dir, 'fused'), ATTENTION);
    try {
      await passes(native.run, kv, context, ENGINE_CAPACITY);
    } finally {
      native.release();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    return summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const gguf = fetchSmolLM2Gguf();
  if (!gguf) {
    console.log(JSON.stringify({ skipped: true, reason: 'SmolLM2 GGUF not available' }));
    return;
  }
  const dir = await importedModel(gguf, 'fused', KV_CACHE);
  const path = join(dir, 'onnx', WEIGHTS === 'int4' || KV_CACHE === 'fp16' ? 'model_q4.onnx' : 'model_int8.onnx');
  const meta = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const kv = discoverKv(meta, path);
  await meta.release();

  // The engines and the addon alone take turns at each context (ROUNDS rounds), so that load changes hit them alike.
  const rt = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: THREADS, weights: WEIGHTS === 'int4' || KV_CACHE === 'fp16' ? 'q4' : 'int8', maxConcurrency: 1, maxQueue: 4, maxPrefillTokens: 4096, maxKvBytes: 1 << 30, logger: silentLogger(), fusedAttention: ATTENTION });
  const noRuns = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: THREADS, weights: WEIGHTS === 'int4' || KV_CACHE === 'fp16' ? 'q4' : 'int8', maxConcurrency: 1, maxQueue: 4, maxPrefillTokens: 4096, maxKvBytes: 1 << 30, logger: silentLogger(), fusedAttention: ATTENTION, greedyRuns: false });
  const native = openNativeBoundRunner(path, THREADS, undefined, ATTENTION);
  const engineSamples: number[][] = CONTEXTS.map(() => []);
  const noRunsSamples: number[][] = CONTEXTS.map(() => []);
  const boundSamples: number[][] = CONTEXTS.map(() => []);
  try {
    const seed = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]];
    for (const r of [rt, noRuns]) await stepTimes(r, seed, [CONTEXTS[0]], 1); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, c] of CONTEXTS.entries()) {
        engineSamples[i].push((await stepTimes(rt, seed, [c], 1))[0]);
        noRunsSamples[i].push((await stepTimes(noRuns, seed, [c], 1))[0]);
        boundSamples[i].push(mean(await passes(native.run, kv, c, ENGINE_CAPACITY)));
      }
    }
  } finally {
    native.release();
    await Promise.all([rt.release(), noRuns.release()]);
  }
  const engineMs = engineSamples.map(median);
  const noRunsMs = noRunsSamples.map(median);
  const boundMs = boundSamples.map(median);
  const profiles: Array<{ byOp: Map<string, number>; runMs: number }> = [];
  for (const c of CONTEXTS) profiles.push(await profiled(path, kv, c));

  const ops = [...new Set(profiles.flatMap((p) => [...p.byOp.keys()]))].sort((a, b) => (profiles[1].byOp.get(b) ?? 0) - (profiles[1].byOp.get(a) ?? 0));
  const kernels = profiles.map((p) => [...p.byOp.values()].reduce((a, b) => a + b, 0));
  console.log(`bench:fused-profile — SmolLM2-135M-Instruct fused ${KV_CACHE === 'fp16' ? 'int4' : WEIGHTS}, ${KV_CACHE} KV cache, batch 1, ${THREADS} thread(s), ${ATTENTION}'s attention kernel, ms per decode step`);
  const rows: Array<[string, number[]]> = [
    ['engine step (session thread, sampling; greedy runs)', engineMs],
    ['engine step, greedy runs off (a round trip per pass)', noRunsMs],
    ['runBound pass (addon, this thread)', boundMs],
    ['profiled run (addon, profiler on)', profiles.map((p) => p.runMs)],
    ['kernels, all', kernels],
    ...ops.map((op): [string, number[]] => [`  ${op}`, profiles.map((p) => p.byOp.get(op) ?? 0)]),
  ];
  console.log(`| | ${CONTEXTS.map((c) => `${c} cached`).join(' | ')} | growth |`);
  console.log(`| --- | ${CONTEXTS.map(() => '---').join(' | ')} | --- |`);
  for (const [name, v] of rows) console.log(`| ${name} | ${v.map((x) => r2(x).toFixed(2)).join(' | ')} | ${r2(v[1] - v[0]).toFixed(2)} |`);
  const gqa = profiles.map((p) => p.byOp.get('GroupQueryAttention') ?? 0);
  console.log(JSON.stringify({
    weights: KV_CACHE === 'fp16' ? 'int4' : WEIGHTS, kv_cache: KV_CACHE, threads: THREADS, attention: ATTENTION,
    engine_step_ms_ctx100: r2(engineMs[0]), engine_step_ms_ctx2000: r2(engineMs[1]), engine_ratio: r2(engineMs[1] / engineMs[0]),
    engine_step_ms_ctx100_no_runs: r2(noRunsMs[0]), engine_step_ms_ctx2000_no_runs: r2(noRunsMs[1]),
    overhead_ms_ctx100: r2(engineMs[0] - boundMs[0]), overhead_ms_ctx2000: r2(engineMs[1] - boundMs[1]),
    overhead_ms_ctx100_no_runs: r2(noRunsMs[0] - boundMs[0]), overhead_ms_ctx2000_no_runs: r2(noRunsMs[1] - boundMs[1]),
    bound_pass_ms_ctx100: r2(boundMs[0]), bound_pass_ms_ctx2000: r2(boundMs[1]),
    kernels_ms_ctx100: r2(kernels[0]), kernels_ms_ctx2000: r2(kernels[1]),
    gqa_ms_ctx100: r2(gqa[0]), gqa_ms_ctx2000: r2(gqa[1]),
    growth_ms: r2(engineMs[1] - engineMs[0]), gqa_growth_ms: r2(gqa[1] - gqa[0]),
    by_op_ctx2000: Object.fromEntries(ops.map((op) => [op, r2(profiles[1].byOp.get(op) ?? 0)])),
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
