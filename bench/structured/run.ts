/**
 * `npm run bench:structured`: what grammar-constrained decoding costs. The same prompt decodes a fixed number of
 * tokens (greedy, ignore_eos) on one worker runtime, free and constrained by a JSON schema (an array of at least 64
 * records — name, age, email, tags, active — so the grammar cannot end before the token budget), at batch 1 and 8,
 * alternating free / constrained rounds (the order flips every round) in one run. Decode tokens/s counts the tokens
 * after the batch's last first token over the time to the last token (prefill excluded). The grammar is compiled
 * before timing (its one-off cost is printed separately).
 * Model: SmolLM2-135M-Instruct when its GGUF is cached (`npm run fetch:smollm2`).
 * Last line: JSON with overhead_b1 and overhead_b8 (1 - constrained / free decode tokens/s, medians over rounds) and
 * the tokens/s figures.
 *
 *   BENCH_ROUNDS (default 5), BENCH_TOKENS (default 96), BENCH_THREADS (default: all cores)
 */
import { availableParallelism, cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { FinishReason } from '../../src/common/gen/worker';
import { silentLogger } from '../../src/common/log';
import { findCachedSmolLM2 } from '../../src/model/gguf/smollm2';
import { jsonSchemaSource } from '../../src/worker/grammar/sources';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { percentile, round } from '../support/stats';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 96);
const THREADS = Number(process.env.BENCH_THREADS ?? availableParallelism());
const BATCHES = [1, 8];
const PROMPT = 'List the members of a hiking club as JSON records with name, age, email, tags and whether they are active.';

/** Records until the token budget runs out; every field is bounded, so the grammar keeps moving through keys, strings, numbers, enums. */
const SCHEMA = JSON.stringify({
  type: 'array',
  minItems: 64,
  items: {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 16 },
      age: { type: 'integer', minimum: 0, maximum: 120 },
      email: { type: 'string', pattern: '^[a-z]{1,12}@[a-z]{1,10}\\.(com|org)$' },
      tags: { type: 'array', items: { enum: ['hiking', 'climbing', 'camping', 'photography'] }, maxItems: 3 },
      active: { type: 'boolean' },
    },
    required: ['name', 'age', 'email', 'tags', 'active'],
    additionalProperties: false,
  },
});

type Mode = 'free' | 'schema';

interface RunResult {
  decodeTokS: number;
  tokens: number;
  texts: string[];
}

/** One batch of `batch` identical requests submitted together; decode tokens/s after the last first token. */
async function runBatch(rt: GenerationRuntime, promptIds: number[], batch: number, mode: Mode, tokens = TOKENS): Promise<RunResult> {
  const grammars = rt.grammars;
  if (!grammars) throw new Error('this runtime has no grammar engine');
  const constraints = mode === 'schema' ? await Promise.all(Array.from({ length: batch }, () => grammars.constraint(jsonSchemaSource(SCHEMA, 'bench')))) : [];
  const params = resolveSamplingParams([...rt.samplingLayers, { temperature: 0, maxTokens: tokens, ignoreEos: true }], rt.info.vocabSize);
  const stamps: number[][] = [];
  const texts: string[] = [];
  await Promise.all(Array.from({ length: batch }, (_, i) => new Promise<void>((resolve, reject) => {
    const mine: number[] = [];
    stamps.push(mine);
    let text = '';
    rt.engine.submit({
      promptIds,
      params,
      constraint: constraints[i],
      onChunk: (c) => {
        const now = performance.now();
        for (let k = 0; k < c.tokenIds.length; k++) mine.push(now);
        text += c.text;
        if (c.finishReason === FinishReason.FINISH_REASON_UNSPECIFIED) return;
        texts.push(text);
        if (c.finishReason !== FinishReason.FINISH_REASON_LENGTH || mine.length !== tokens) reject(new Error(`${mode}: finished ${FinishReason[c.finishReason]} after ${mine.length} tokens (${c.error ?? ''})`));
        else resolve();
      },
    });
  })));
  const start = Math.max(...stamps.map((s) => s[0]));
  const end = Math.max(...stamps.map((s) => s[s.length - 1]));
  const decoded = stamps.reduce((n, s) => n + s.filter((t) => t > start).length, 0);
  return { decodeTokS: decoded / ((end - start) / 1000), tokens: decoded, texts };
}

async function main(): Promise<void> {
  const dir = await findCachedSmolLM2(join(homedir(), '.cache', 'fleetchat'));
  if (!dir) throw new Error('SmolLM2 is not cached: run npm run fetch:smollm2');
  const rt = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: THREADS, weights: 'auto', maxConcurrency: 8, maxQueue: 8, maxPrefillTokens: 8192, logger: silentLogger() });
  const promptIds = rt.prompts.fromChat({ messages: [{ role: 'user', content: PROMPT, name: '', toolCallId: '', toolCallsJson: '' }], addGenerationPrompt: true, toolsJson: '', convTemplate: '' }).ids;
  const grammars = rt.grammars;
  if (!grammars) throw new Error('this runtime has no grammar engine');
  let started = performance.now();
  (await grammars.constraint(jsonSchemaSource('{"type":"boolean"}', 'bench'))).dispose(); // tokenizer info, once per worker
  const tokenizerInfoMs = performance.now() - started;
  started = performance.now();
  (await grammars.constraint(jsonSchemaSource(SCHEMA, 'bench'))).dispose();
  const compileMs = performance.now() - started;
  // Warm-up: both modes at both sizes (first runs allocate), and the schema output must be the JSON it claims.
  const sample = await runBatch(rt, promptIds, 1, 'schema');
  if (!sample.texts[0].startsWith('[{"name": "')) throw new Error(`unexpected constrained output: ${sample.texts[0]}`);
  for (const b of BATCHES) for (const mode of ['free', 'schema'] as const) await runBatch(rt, promptIds, b, mode, 8);

  const results = new Map<string, number[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of BATCHES) {
      const order: Mode[] = r % 2 === 0 ? ['free', 'schema'] : ['schema', 'free'];
      for (const mode of order) {
        const key = `${mode}@${b}`;
        const res = await runBatch(rt, promptIds, b, mode);
        results.set(key, [...(results.get(key) ?? []), res.decodeTokS]);
        process.stderr.write(`round ${r + 1} batch ${b} ${mode}: ${round(res.decodeTokS, 1)} decode tok/s\n`);
      }
    }
  }
  await rt.release();

  const median = (key: string): number => percentile(results.get(key) ?? [], 50);
  console.log(`bench:structured — SmolLM2-135M-Instruct (imported GGUF, fp32 graph), ${THREADS} threads on ${cpus()[0]?.model ?? 'CPU'} x${availableParallelism()}, ${TOKENS} tokens a request, greedy, ${ROUNDS} alternating rounds`);
  console.log(`one-off costs: tokenizer info ${round(tokenizerInfoMs, 0)} ms (once per worker), schema compile ${round(compileMs, 0)} ms (once per schema, then cached)`);
  console.table(BATCHES.flatMap((b) => (['free', 'schema'] as const).map((mode) => ({
    batch: b,
    mode,
    'decode tok/s (median)': round(median(`${mode}@${b}`), 1),
    'per round': (results.get(`${mode}@${b}`) ?? []).map((x) => round(x, 0)).join(' '),
  }))));
  const overhead = (b: number): number => round(1 - median(`schema@${b}`) / median(`free@${b}`), 3);
  for (const b of BATCHES) console.log(`batch ${b}: constrained / free = ${round(median(`schema@${b}`) / median(`free@${b}`), 3)} (overhead ${round(overhead(b) * 100, 1)}%)`);
  console.log(JSON.stringify({
    model: 'SmolLM2-135M-Instruct',
    threads: THREADS,
    tokens_per_request: TOKENS,
    rounds: ROUNDS,
    free_tok_s_b1: round(median('free@1'), 1),
    schema_tok_s_b1: round(median('schema@1'), 1),
    free_tok_s_b8: round(median('free@8'), 1),
    schema_tok_s_b8: round(median('schema@8'), 1),
    overhead_b1: overhead(1),
    overhead_b8: overhead(8),
    compile_ms: round(compileMs, 0),
    tokenizer_info_ms: round(tokenizerInfoMs, 0),
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
