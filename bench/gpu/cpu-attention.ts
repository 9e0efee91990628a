/**
 * The addon's GroupQueryAttention kernel against onnxruntime's on many CPU cores (the GPU machine's 16; this repository's
 * CI machine has 2, where a second thread only contends): decode passes of a generated model of SmolLM2-135M's shape
 * (30 layers, hidden 576, 9 query / 3 KV heads, head dim 64, int4 weights, fused graph) through the addon's runBound at
 * 100 and 2,000 cached positions, for each intra-op thread count — the float16 cache on the addon's kernel (the only
 * one that runs it), the float32 cache on the addon's and on onnxruntime's. Random weights: a pass's time does not
 * depend on the values. Rounds alternate the variants; each cell is the median over rounds of a mean over passes.
 * Prints a table and one JSON line last. Bundled into the GPU kit (pack-kit.sh) as cpu-attention.js.
 *
 *   node cpu-attention.js            BENCH_THREAD_LIST (default 1,2,4,8,16), BENCH_ROUNDS (default 3), BENCH_OUT (dir)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createTinyModel } from '../../src/model/tiny/create-tiny-model';
import type { KvCacheFormat } from '../../src/model/llama/decoder-graph';
import { discoverKv, type KvSpec } from '../../src/worker/engine/session';
import { openNativeBoundRunner, type AttentionKernel } from '../../src/worker/engine/native-session';
import { boundPasses } from '../real/bound-passes';

const THREADS = (process.env.BENCH_THREAD_LIST ?? '1,2,4,8,16').split(',').map(Number).filter((n) => n > 0);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONTEXTS = [100, 2000];
const CAPACITY = 4096;
const COUNTS = { warmUp: 3, steps: 16 };

interface Variant {
  name: string;
  cache: KvCacheFormat;
  attention: AttentionKernel;
}
const VARIANTS: Variant[] = [
  { name: 'fleetchat kernel, fp16 cache', cache: 'fp16', attention: 'fleetchat' },
  { name: 'fleetchat kernel, fp32 cache', cache: 'fp32', attention: 'fleetchat' },
  { name: 'onnxruntime kernel, fp32 cache', cache: 'fp32', attention: 'onnxruntime' },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function model(root: string, cache: KvCacheFormat): Promise<{ path: string; kv: KvSpec }> {
  const r = await createTinyModel({ outDir: join(root, cache), layers: 30, hidden: 576, heads: 9, kvHeads: 3, intermediate: 1536, maxPositions: 8192, ropeTheta: 100000, tieEmbeddings: true, vocabFrom: 'gpt2', weightFormats: ['int4'], graph: 'fused', kvCache: cache, seed: 1 });
  const path = join(r.dir, 'onnx', 'model_q4.onnx');
  const meta = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const kv = discoverKv(meta, path);
  await meta.release();
  return { path, kv };
}

/** Mean pass ms at each context for one variant and thread count (a fresh session each time). */
async function measure(m: { path: string; kv: KvSpec }, v: Variant, threads: number): Promise<number[]> {
  const native = openNativeBoundRunner(m.path, threads, undefined, v.attention);
  try {
    const out: number[] = [];
    for (const c of CONTEXTS) out.push(mean(await boundPasses(native.run, m.kv, c, CAPACITY, COUNTS)));
    return out;
  } finally {
    native.release();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fleetchat-cpu-attention-'));
  try {
    const models = { fp16: await model(root, 'fp16'), fp32: await model(root, 'fp32') };
    const samples = new Map<string, number[][]>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const threads of THREADS) {
        for (const v of VARIANTS) {
          const key = `${threads}|${v.name}`;
          const ms = await measure(models[v.cache], v, threads);
          samples.set(key, [...(samples.get(key) ?? []), ms]);
        }
      }
      console.error(`cpu-attention: round ${r + 1}/${ROUNDS} done`);
    }
    const cell = (threads: number, v: Variant, i: number): number => r2(median((samples.get(`${threads}|${v.name}`) ?? []).map((ms) => ms[i])));
    console.log(`cpu-attention — SmolLM2-135M shape (random int4 weights, fused graph), one row, ms per decode pass at ${CONTEXTS.join(' / ')} cached positions`);
    console.log(`| threads | ${VARIANTS.map((v) => v.name).join(' | ')} |`);
    console.log(`| --- | ${VARIANTS.map(() => '---').join(' | ')} |`);
    for (const t of THREADS) console.log(`| ${t} | ${VARIANTS.map((v) => `${cell(t, v, 0)} / ${cell(t, v, 1)} (${r2(cell(t, v, 1) / cell(t, v, 0))}×)`).join(' | ')} |`);
    const json: Record<string, number> = {};
    for (const t of THREADS) {
      for (const [k, v] of [['f16', VARIANTS[0]], ['f32', VARIANTS[1]], ['ort_f32', VARIANTS[2]]] as const) {
        json[`${k}_t${t}_ctx100_ms`] = cell(t, v, 0);
        json[`${k}_t${t}_ctx2000_ms`] = cell(t, v, 1);
      }
    }
    const line = JSON.stringify({ cores: cpus().length, ...json });
    console.log(line);
    if (process.env.BENCH_OUT) {
      mkdirSync(process.env.BENCH_OUT, { recursive: true });
      writeFileSync(join(process.env.BENCH_OUT, 'cpu-attention.jsonl'), `${line}\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
