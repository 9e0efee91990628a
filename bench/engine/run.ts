/**
 * `npm run bench:engine`: single-stream prefill and decode speed of fleetchat's engine and of transformers.js
 * (@huggingface/transformers on the same onnxruntime-node) on the very same model directories and prompt,
 * greedy, same thread count; then fleetchat's decode step time against the context length (bench/real/context-steps.ts) on the
 * ~100M model and on SmolLM2-135M when its import is cached (`npm run fetch:smollm2`), standard and fused graphs.
 * Prints tables, then one JSON line last: {decode_tok_s, peer_decode_tok_s, ratio, model_bytes, bound_tok_s, ...,
 * step_ms_ctx100, ..., step_ms_ctx2000, step_ratio_ctx2000_ctx100 (for the ~100M model), smollm2_step_ms_ctx100, ...,
 * smollm2_fused_step_ms_ctx100, ...}.
 *
 *   BENCH_THREADS (default: all cores), BENCH_DECODE_TOKENS (default 64), BENCH_RUNS (default 3),
 *   BENCH_CONTEXTS (default 100,500,1000,2000; empty = no context table), BENCH_CONTEXT_RUNS (default 3),
 *   BENCH_PEER=off (only the context table), BENCH_CONTEXT_MODELS=dir,dir (more model directories for the context
 *   table — e.g. the same model imported as another graph variant; JSON keys prefixed with the directory's name)
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { measureCopyBandwidth } from '../support/bandwidth';
import { benchModel } from '../support/models';
import { findCachedSmolLM2 } from '../../src/model/gguf/smollm2';
import { importedModel } from '../real/imported-model';
import { fetchSmolLM2Gguf } from '../support/smollm2';
import { stepTimes } from '../real/context-steps';

const THREADS = Number(process.env.BENCH_THREADS ?? availableParallelism());
const DECODE = Number(process.env.BENCH_DECODE_TOKENS ?? 64);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONTEXTS = (process.env.BENCH_CONTEXTS ?? '100,500,1000,2000').split(',').filter((c) => c.trim() !== '').map(Number);
const CONTEXT_RUNS = Number(process.env.BENCH_CONTEXT_RUNS ?? 3);
const PEER = process.env.BENCH_PEER !== 'off';
const EXTRA_CONTEXT_MODELS = (process.env.BENCH_CONTEXT_MODELS ?? '').split(',').filter((d) => d.trim() !== '');
const PROMPT = 'The history of the city begins with a small settlement on the river, where traders from the north and the south met every';

interface Speeds {
  prefillTokS: number;
  decodeTokS: number;
  promptTokens: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time to generate `n` tokens greedily (prefill included). */
function ours(rt: GenerationRuntime, n: number): Promise<{ ms: number; ids: number[]; promptTokens: number }> {
  const prompt = rt.prompts.fromText(PROMPT);
  const params = resolveSamplingParams([{ temperature: 0, maxTokens: n, ignoreEos: true }], rt.info.vocabSize);
  const started = performance.now();
  return new Promise((resolve) => {
    const ids: number[] = [];
    rt.engine.submit({
      promptIds: prompt.ids,
      params,
      onChunk: (c) => {
        ids.push(...c.tokenIds);
        if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve({ ms: performance.now() - started, ids, promptTokens: prompt.ids.length });
      },
    });
  });
}

interface TjsModel {
  generate(args: Record<string, unknown>): Promise<{ tolist(): bigint[][] } | { tolist(): number[][] }>;
  dispose(): Promise<void>;
}

interface Contender {
  /** Generates n tokens greedily; returns wall time and the new token ids. */
  gen(n: number): Promise<{ ms: number; ids: number[] }>;
  promptTokens: number;
  close(): Promise<void>;
}

async function oursContender(dir: string): Promise<Contender> {
  const rt = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: THREADS, weights: 'auto', maxConcurrency: 1, maxQueue: 4, maxPrefillTokens: 1 << 20, logger: silentLogger() });
  const promptTokens = rt.prompts.fromText(PROMPT).ids.length;
  return { gen: (n) => ours(rt, n), promptTokens, close: () => rt.release() };
}

async function peerContender(dir: string): Promise<Contender> {
  const tjs = await import('@huggingface/transformers');
  tjs.env.localModelPath = dirname(dir) + '/';
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(basename(dir));
  const model = (await tjs.AutoModelForCausalLM.from_pretrained(basename(dir), {
    dtype: 'fp32',
    session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4 },
  })) as unknown as TjsModel;
  const inputs = tokenizer(PROMPT) as { input_ids: { dims: number[] } } & Record<string, unknown>;
  const promptTokens = inputs.input_ids.dims[1];
  const gen = async (n: number): Promise<{ ms: number; ids: number[] }> => {
    const t = performance.now();
    const out = await model.generate({ ...inputs, max_new_tokens: n, min_new_tokens: n, do_sample: false });
    const row = (out.tolist() as Array<Array<number | bigint>>)[0].map(Number);
    return { ms: performance.now() - t, ids: row.slice(promptTokens) };
  };
  return { gen, promptTokens, close: () => model.dispose() };
}

/** A full GC, without --expose-gc on the command line (worker threads refuse that flag in execArgv). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Lets the other session's onnxruntime threads stop spinning before a measurement, and collects the garbage both
 * contenders left in this shared heap (so neither pays for the other's allocations mid-measurement).
 */
function settle(): Promise<void> {
  collectGarbage();
  return new Promise((r) => setTimeout(r, 250));
}

/** Runs both contenders alternately (so load changes on the machine hit both alike); medians per contender. */
async function measurePair(a: Contender, b: Contender): Promise<Array<Speeds & { ids: number[] }>> {
  const samples = [a, b].map(() => ({ one: [] as number[], many: [] as number[], ids: [] as number[] }));
  for (const c of [a, b]) await c.gen(4); // warm-up
  for (let r = 0; r < RUNS; r++) {
    for (const [i, c] of [a, b].entries()) {
      // A prefill is one short event, easily hit by a stray stall: three samples per run.
      for (let k = 0; k < 3; k++) {
        await settle();
        samples[i].one.push((await c.gen(1)).ms);
      }
      const many = await c.gen(DECODE + 1);
      samples[i].many.push(many.ms);
      samples[i].ids = many.ids;
    }
  }
  return [a, b].map((c, i) => ({
    prefillTokS: c.promptTokens / (median(samples[i].one) / 1000),
    decodeTokS: DECODE / ((median(samples[i].many) - median(samples[i].one)) / 1000),
    promptTokens: c.promptTokens,
    ids: samples[i].ids,
  }));
}

async function main(): Promise<void> {
  const bandwidth = measureCopyBandwidth();
  const models = [
    { name: 'tiny', dir: await benchModel('tiny', { preset: 'tiny' }) },
    { name: '100m', dir: await benchModel('100m', { preset: '100m' }) },
  ];
  const rows: Array<Record<string, string | number>> = [];
  let last: Record<string, number | string | boolean> = {};
  for (const m of PEER ? models : []) {
    const bytes = statSync(join(m.dir, 'onnx', 'model.onnx')).size;
    const mine = await oursContender(m.dir);
    const peer = await peerContender(m.dir);
    const [a, b] = await measurePair(mine, peer);
    await mine.close();
    await peer.close();
    const same = a.ids.slice(0, DECODE).join(',') === b.ids.slice(0, DECODE).join(',');
    const bound = bandwidth / bytes;
    rows.push({ model: m.name, model_mb: +(bytes / 1e6).toFixed(1), prompt_tokens: a.promptTokens, fleetchat_prefill_tok_s: +a.prefillTokS.toFixed(1), peer_prefill_tok_s: +b.prefillTokS.toFixed(1), fleetchat_decode_tok_s: +a.decodeTokS.toFixed(1), peer_decode_tok_s: +b.decodeTokS.toFixed(1), ratio: +(a.decodeTokS / b.decodeTokS).toFixed(2), bound_tok_s: +bound.toFixed(1), same_tokens: String(same) });
    last = { model: m.name, decode_tok_s: +a.decodeTokS.toFixed(1), peer_decode_tok_s: +b.decodeTokS.toFixed(1), ratio: +(a.decodeTokS / b.decodeTokS).toFixed(3), prefill_tok_s: +a.prefillTokS.toFixed(1), peer_prefill_tok_s: +b.prefillTokS.toFixed(1), model_bytes: bytes, copy_bandwidth_gb_s: +(bandwidth / 1e9).toFixed(1), bound_tok_s: +bound.toFixed(1), threads: THREADS, identical_greedy_tokens: same };
  }
  if (PEER) {
    console.log(`bench:engine — single stream, greedy, ${THREADS} threads, ${DECODE} decode tokens, median of ${RUNS}; peer = transformers.js`);
    console.table(rows);
  }
  Object.assign(last, await contextTable(models[1].dir));
  console.log(JSON.stringify(last));
}

/** Decode step ms against cached tokens on the ~100M model and SmolLM2 (when cached); printed, and JSON fields. */
async function contextTable(dir100m: string): Promise<Record<string, number>> {
  if (CONTEXTS.length === 0) return {};
  const smol = await findCachedSmolLM2(join(homedir(), '.cache', 'fleetchat'));
  // The same GGUF imported with --graph fused (GroupQueryAttention over the in-place KV pool), when it is cached.
  const gguf = smol ? fetchSmolLM2Gguf() : undefined;
  const fused = gguf ? await importedModel(gguf, 'fused') : undefined;
  const targets = [
    { name: '100m (fp32)', prefix: '', dir: dir100m, weights: 'auto' as const },
    ...(smol ? [{ name: 'SmolLM2-135M (int4)', prefix: 'smollm2_', dir: smol, weights: 'q4' as const }] : []),
    ...(fused ? [{ name: 'SmolLM2-135M (int4, fused)', prefix: 'smollm2_fused_', dir: fused, weights: 'q4' as const }] : []),
    ...EXTRA_CONTEXT_MODELS.map((dir) => ({ name: basename(dir), prefix: `${basename(dir).toLowerCase().replace(/[^a-z0-9]+/g, '_')}_`, dir, weights: 'auto' as const })),
  ];
  const rows: Array<Record<string, string | number>> = [];
  const fields: Record<string, number> = {};
  for (const t of targets) {
    const rt = await loadGenerationRuntime({ dir: t.dir, source: t.dir, modelNames: ['bench'], threads: THREADS, weights: t.weights, maxConcurrency: 1, maxQueue: 4, maxPrefillTokens: 1 << 20, logger: silentLogger() });
    try {
      // 17 new tokens a run (16 timed steps), the shortest context once untimed first.
      const steps = await stepTimes(rt, [rt.prompts.fromText(PROMPT).ids], CONTEXTS, CONTEXT_RUNS, { steps: 17, warmUp: true });
      const row: Record<string, string | number> = { model: t.name };
      CONTEXTS.forEach((n, i) => {
        row[`ctx${n}_ms`] = +steps[i].toFixed(2);
        fields[`${t.prefix}step_ms_ctx${n}`] = +steps[i].toFixed(2);
      });
      const ratio = steps[steps.length - 1] / steps[0];
      row[`ctx${CONTEXTS[CONTEXTS.length - 1]}/ctx${CONTEXTS[0]}`] = +ratio.toFixed(2);
      fields[`${t.prefix}step_ratio_ctx${CONTEXTS[CONTEXTS.length - 1]}_ctx${CONTEXTS[0]}`] = +ratio.toFixed(3);
      rows.push(row);
    } finally {
      await rt.release();
    }
  }
  console.log(`decode step (ms) against cached tokens — batch 1, greedy, ${THREADS} threads, ${CONTEXT_RUNS} runs, median; goal: the last within 1.5x of the first`);
  console.table(rows);
  return fields;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
