/**
 * One fleetchat engine measurement (a child process of bench/gpu/run.ts): loads a model directory on the given
 * device and, for each batch size, submits B greedy requests of `promptLen` tokens together and generates `newTokens`
 * each. Prints one JSON line per batch size: TTFT, prefill and decode tokens/s, decode step times early and late
 * (to see whether a step grows with the context), the mean forward pass and the mean whole step (forward_ms,
 * step_ms), and every row's tokens (for equality across devices).
 *
 *   node engine-bench.js '{"model": DIR, "device": "cuda", "batches": [1, 8], "promptLen": 64, "newTokens": 128}'
 */
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { parseDevice } from '../../src/worker/device/device-spec';
import { applyTf32Policy, describeDevice, resolveDevice } from '../../src/worker/device/execution-provider';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { WeightVariant } from '../../src/worker/loader/files';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';

interface Args {
  model: string;
  device: string;
  batches: number[];
  promptLen: number;
  newTokens: number;
  threads?: number;
  nativeKv?: boolean;
  allowTf32?: boolean;
  weights?: WeightVariant;
  /** Fused graphs on CUDA: decode steps replayed as CUDA graphs (the worker's --cuda-graph). */
  cudaGraph?: boolean;
  /** The KV budget in MiB (the worker's --kv-cache-mib; default the GPU's memory): a fused pool's slot capacity follows it. */
  kvMib?: number;
}

interface RowResult {
  ids: number[];
  ttftMs: number;
}

/** Deterministic prompt of `len` token ids for row `row` (distinct rows, ordinary vocabulary ids). */
function promptIds(row: number, len: number, vocab: number): number[] {
  return Array.from({ length: len }, (_, i) => 256 + ((row * 7919 + i * 104729) % Math.min(vocab - 512, 40000)));
}

function generate(rt: GenerationRuntime, ids: number[], maxTokens: number, started: number): Promise<RowResult> {
  return new Promise((resolve, reject) => {
    const out: RowResult = { ids: [], ttftMs: 0 };
    const p = rt.prompts.fromTokenIds(ids);
    rt.engine.submit({
      promptIds: p.ids,
      promptText: p.text,
      params: resolveSamplingParams([...rt.samplingLayers, { temperature: 0, maxTokens, ignoreEos: true }], rt.info.vocabSize),
      onChunk: (c) => {
        if (out.ids.length === 0 && c.tokenIds.length > 0) out.ttftMs = performance.now() - started;
        out.ids.push(...c.tokenIds);
        if (c.finishReason === FinishReason.FINISH_REASON_ERROR) reject(new Error(c.error || 'generation failed'));
        else if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve(out);
      },
    });
  });
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const steps: Array<{ batch: number; seconds: number }> = [];
  const resolved = resolveDevice(parseDevice(args.device), { allowTf32: args.allowTf32 ?? false, logger: silentLogger() });
  const device = args.cudaGraph ? { ...resolved, cudaGraph: true } : resolved;
  applyTf32Policy(device);
  const maxBatch = Math.max(...args.batches);
  let kvOnDevice = false;
  const capture = new Writable({
    write(chunk: Buffer, _enc, done): void {
      const line = JSON.parse(chunk.toString()) as { msg?: string; kvOnDevice?: boolean };
      if (line.msg === 'model loaded') kvOnDevice = line.kvOnDevice === true;
      done();
    },
  });
  const rt = await loadGenerationRuntime({
    dir: args.model, source: args.model, modelNames: ['bench'], threads: args.threads ?? 4, device, nativeKv: args.nativeKv, weights: args.weights ?? 'auto',
    maxConcurrency: maxBatch, maxQueue: 4 * maxBatch, maxKvBytes: args.kvMib ? args.kvMib * 2 ** 20 : undefined, maxPrefillTokens: maxBatch * args.promptLen + 1, observer: { onStep: (batch, seconds) => steps.push({ batch, seconds }) }, logger: createLogger({ level: 'info', stream: capture }),
  });
  const vocab = rt.info.vocabSize;
  const info = { device: describeDevice(device), kvOnDevice, kvSlotCapacity: rt.engine.kvSlotCapacity };
  process.stdout.write(`${JSON.stringify({ kind: 'info', ...info })}\n`);
  for (const batch of args.batches) {
    // Warm-up at this batch size (kernel selection, arena growth), then the measured run.
    await Promise.all(Array.from({ length: batch }, (_, r) => generate(rt, promptIds(r + 1000, args.promptLen, vocab), 4, performance.now())));
    steps.length = 0;
    const started = performance.now();
    const rows = await Promise.all(Array.from({ length: batch }, (_, r) => generate(rt, promptIds(r, args.promptLen, vocab), args.newTokens, started)));
    const ended = performance.now();
    const firstDone = Math.max(...rows.map((r) => r.ttftMs));
    const decodeSteps = steps.filter((s) => s.batch === batch).slice(1).map((s) => s.seconds * 1000); // [0] is the prefill
    const tenth = Math.max(1, Math.floor(decodeSteps.length / 10));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    process.stdout.write(`${JSON.stringify({
      kind: 'result', batch, promptLen: args.promptLen, newTokens: args.newTokens,
      ttft_ms: firstDone, prefill_tok_s: (batch * args.promptLen) / (firstDone / 1000),
      decode_tok_s: (batch * (args.newTokens - 1)) / ((ended - started - firstDone) / 1000),
      step_ms_early: mean(decodeSteps.slice(0, tenth)), step_ms_late: mean(decodeSteps.slice(-tenth)),
      // the forward pass alone (session thread round trip included) vs the whole step (sampling, detokenising, scheduling)
      forward_ms: mean(decodeSteps), step_ms: (ended - started - firstDone) / Math.max(1, args.newTokens - 1),
      ctx_early: args.promptLen + 1, ctx_late: args.promptLen + args.newTokens,
      tokens: rows.map((r) => r.ids),
    })}\n`);
  }
  await rt.release();
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
