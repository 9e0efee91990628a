/**
 * The fused decoder graph (GroupQueryAttention with rotary inside and an in-place KV pool, Skip/SimplifiedLayer-
 * Normalization, MatMulNBits, GatherBlockQuantized) against the float64 reference: prompts, chunked prompts,
 * decode steps of rows with different lengths sharing a pass, and the cache written only where it belongs — through
 * onnxruntime-node, the addon, and the addon with its own GroupQueryAttention kernel (native/ort-device/gqa_cpu.c). The
 * fused-mha graph (float32 on CUDA: ONNX Attention over a cache written in place by TensorScatter) passes the same
 * float32 checks, prefills prompts of different lengths in one right-padded pass, and writes its cache in place.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildFusedLlamaDecoder } from '../../src/model/llama/fused-decoder-graph';
import { buildFusedMhaLlamaDecoder } from '../../src/model/llama/fused-mha-decoder-graph';
import { toHfLlamaConfig, validateLlamaConfig, type ValidLlamaConfig } from '../../src/model/llama/llama-config';
import { llamaWeightShapes } from '../../src/model/llama/llama-weights';
import { writeOnnxModel } from '../../src/model/onnx/model-writer';
import { dequantizeBlocks, quantizeBlocks } from '../../src/model/quant/block-quant';
import { writeJson } from '../../src/model/tiny/hf-files';
import { RandomLlamaWeights } from '../../src/model/tiny/random-llama-weights';
import { writeSafetensors } from '../../src/model/weights/safetensors';
import { MemoryWeightSource, type WeightSource, type WeightTensor } from '../../src/model/weights/weight-source';
import { ortNodeRunner, type BoundRunner } from '../../src/worker/engine/fused-kv-pool';
import { fusedAttentionKernel, openNativeBoundRunner } from '../../src/worker/engine/native-session';
import { discoverKv, fusedPasses, type FusedPasses } from '../../src/worker/engine/session';
import { ReferenceLlama } from '../support/reference-llama';
import { argmax, relativeError } from './decoder-session';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-fused-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROMPT = [15, 141, 59, 26, 499, 0, 77, 300, 12, 5];
const OTHER = [7, 8, 9];
const SLOTS = 3;
const CAPACITY = 40;

/**
 * Heads: 4 query / 2 KV heads of 16; GROUPED_HEADS, for the fused-mha graph, has 8 / 2 of 8 — a group (4) unlike the
 * KV head count, so a query-head order that is the inverse of the right one (group-major-heads.ts) cannot pass.
 */
const GROUPED_HEADS = { numHeads: 8, numKvHeads: 2, headDim: 8 };

function configOf(bias: boolean, heads: Partial<typeof GROUPED_HEADS> = {}): ValidLlamaConfig {
  return validateLlamaConfig({
    vocabSize: 500, hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, ...heads, intermediateSize: 176,
    maxPositionEmbeddings: 64, rmsNormEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true, attentionBias: bias,
  });
}

/** A model directory: the fused graph, and the weights the reference should read as model.safetensors. */
/** The addon with `fleetchat` attention: GroupQueryAttention on its own CPU kernel (native/ort-device/gqa_cpu.c). */
type RunnerKind = 'onnxruntime-node' | 'addon' | 'addon, fleetchat attention';
type FusedKind = 'fused' | 'fused-mha';

async function fusedModel(name: string, config: ValidLlamaConfig, weights: WeightSource, format: 'fp32' | 'int8' | 'int4', reference: { config: ValidLlamaConfig; weights: WeightSource; runner?: RunnerKind; graph?: FusedKind }): Promise<{ release: () => Promise<void>; passes: FusedPasses; reference: ReferenceLlama }> {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const build = reference.graph === 'fused-mha' ? buildFusedMhaLlamaDecoder : buildFusedLlamaDecoder;
  writeOnnxModel(join(dir, 'onnx', 'model.onnx'), build(config, weights, { weightFormat: format, accuracyLevel: 0 }));
  writeSafetensors(join(dir, 'model.safetensors'), llamaWeightShapes(reference.config), reference.weights);
  writeJson(dir, 'config.json', toHfLlamaConfig(reference.config, { bosTokenId: 0, eosTokenId: 1 }));
  const path = join(dir, 'onnx', 'model.onnx');
  const session = await ort.InferenceSession.create(path, { logSeverityLevel: 4, graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const native = reference.runner === undefined || reference.runner === 'onnxruntime-node' ? undefined : openNativeBoundRunner(path, 1, undefined, reference.runner === 'addon' ? 'onnxruntime' : 'fleetchat');
  const run: BoundRunner = native?.run ?? ortNodeRunner(session);
  const release = async (): Promise<void> => {
    native?.release();
    await session.release();
  };
  return { release, passes: fusedPasses(run, discoverKv(session, dir)), reference: new ReferenceLlama(dir) };
}

/** Prefill of `tokens` into `slot` (from position `from` of its cache), every position's logits. */
async function prefill(passes: FusedPasses, slot: number, tokens: number[], from = 0): Promise<Float32Array> {
  const out = await passes.forward({
    slots: SLOTS, capacity: CAPACITY, slot, batch: 1, seqLen: tokens.length, inputIds: BigInt64Array.from(tokens, BigInt),
    seqlensK: Int32Array.of(from + tokens.length - 1), totalLength: from + tokens.length, keepLogits: 0, moves: [],
  });
  return out.logits;
}

function row(logits: Float32Array, i: number, vocab = 500): Float32Array {
  return logits.subarray(i * vocab, (i + 1) * vocab);
}

describe('fused decoder graph', () => {
  // The addon (native/ort-device) binds the pool as input and output through the C API; onnxruntime-node is the fallback.
  beforeAll(() => execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' }), 120_000);

  const graphsAndRunners = [
    ...(['onnxruntime-node', 'addon', 'addon, fleetchat attention'] as const).map((runner) => ['fused', runner] as const),
    ...(['onnxruntime-node', 'addon'] as const).map((runner) => ['fused-mha', runner] as const),
  ];
  it.each(graphsAndRunners)('%s fp32 (with q/k/v biases) through %s: prompt, chunked prompt and batched decode of different lengths equal the float64 reference', async (graph, runner) => {
    const config = configOf(true, graph === 'fused-mha' ? GROUPED_HEADS : {});
    const weights = new RandomLlamaWeights(config, 5);
    const m = await fusedModel(`${graph}-fp32-${runner.replace(/\W+/g, '-')}`, config, weights, 'fp32', { config, weights, runner, graph });
    const expected = m.reference.forward(PROMPT);
    const whole = await prefill(m.passes, 1, PROMPT);
    PROMPT.forEach((_, t) => expect(relativeError(row(whole, t), expected[t])).toBeLessThan(1e-4));
    // The same prompt in two chunks into another slot (GQA's continuation over its own cache).
    await prefill(m.passes, 2, PROMPT.slice(0, 6));
    const tail = await prefill(m.passes, 2, PROMPT.slice(6), 6);
    expect(relativeError(row(tail, 3), expected[PROMPT.length - 1])).toBeLessThan(1e-4);
    // Slot 0: a shorter prompt; then one decode pass over slots 0..2 whose rows have 3, 10 and 10 cached positions.
    await prefill(m.passes, 0, OTHER);
    const next = [argmax(m.reference.forward(OTHER)[OTHER.length - 1]), argmax(expected[PROMPT.length - 1]), 42];
    const step = await m.passes.forward({
      slots: SLOTS, capacity: CAPACITY, slot: 0, batch: 3, seqLen: 1, inputIds: BigInt64Array.from(next, BigInt),
      seqlensK: Int32Array.of(OTHER.length, PROMPT.length, PROMPT.length), totalLength: PROMPT.length + 1, keepLogits: 1, moves: [],
    });
    expect(relativeError(row(step.logits, 0), m.reference.forward([...OTHER, next[0]])[OTHER.length])).toBeLessThan(1e-4);
    expect(relativeError(row(step.logits, 1), m.reference.forward([...PROMPT, next[1]])[PROMPT.length])).toBeLessThan(1e-4);
    expect(relativeError(row(step.logits, 2), m.reference.forward([...PROMPT, next[2]])[PROMPT.length])).toBeLessThan(1e-4);
    // A slot moved onto another (the engine's compaction) carries its sequence on.
    const moved = await m.passes.forward({
      slots: SLOTS, capacity: CAPACITY, slot: 0, batch: 1, seqLen: 1, inputIds: BigInt64Array.of(3n),
      seqlensK: Int32Array.of(PROMPT.length + 1), totalLength: PROMPT.length + 2, keepLogits: 1, moves: [[2, 0, PROMPT.length + 1]],
    });
    expect(relativeError(moved.logits, m.reference.forward([...PROMPT, next[2], 3])[PROMPT.length + 1])).toBeLessThan(1e-4);
    await m.release();
  });

  it.each(['onnxruntime-node', 'addon'] as const)('fused-mha through %s: prompts of different lengths right-padded into one pass, then a decode step over them, equal the float64 reference', async (runner) => {
    const config = configOf(false, GROUPED_HEADS);
    const weights = new RandomLlamaWeights(config, 9);
    const m = await fusedModel(`fused-mha-group-${runner}`, config, weights, 'fp32', { config, weights, runner, graph: 'fused-mha' });
    const prompts = [OTHER, PROMPT.slice(0, 6), PROMPT]; // 3, 6 and 10 tokens in slots 0..2, padded with token 0
    const longest = PROMPT.length;
    const ids = new BigInt64Array(prompts.length * longest);
    prompts.forEach((p, r) => p.forEach((t, i) => (ids[r * longest + i] = BigInt(t))));
    const group = await m.passes.forward({
      slots: SLOTS, capacity: CAPACITY, slot: 0, batch: 3, seqLen: longest, inputIds: ids,
      seqlensK: Int32Array.from(prompts, (p) => p.length - 1), totalLength: longest, keepLogits: 0, moves: [],
    });
    prompts.forEach((p, r) => {
      const expected = m.reference.forward(p);
      p.forEach((_, t) => expect(relativeError(row(group.logits, r * longest + t), expected[t])).toBeLessThan(1e-4));
    });
    // The padding each shorter row wrote beyond its length is overwritten by its next position, never read.
    const next = [11, 22, 33];
    const step = await m.passes.forward({
      slots: SLOTS, capacity: CAPACITY, slot: 0, batch: 3, seqLen: 1, inputIds: BigInt64Array.from(next, BigInt),
      seqlensK: Int32Array.from(prompts, (p) => p.length), totalLength: longest + 1, keepLogits: 1, moves: [],
    });
    prompts.forEach((p, r) => expect(relativeError(row(step.logits, r), m.reference.forward([...p, next[r]])[p.length])).toBeLessThan(1e-4));
    await m.release();
  });

  it('fused-mha: TensorScatter writes the cache in place when past and present are the same memory (onnxruntime\'s warning shows only when they are not)', () => {
    const config = configOf(false);
    const dir = join(tmp, 'fused-mha-inplace');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'model.onnx');
    writeOnnxModel(path, buildFusedMhaLlamaDecoder(config, new RandomLlamaWeights(config, 3)));
    // A child process (onnxruntime writes its log to the process's stderr): one pass with present.* bound over the
    // past buffers, as the worker binds them, or left to onnxruntime.
    const child = `
      const ort = require('onnxruntime-node');
      (async () => {
        const s = await ort.InferenceSession.create(process.argv[1], { logSeverityLevel: 2, intraOpNumThreads: 1 });
        const pasts = s.inputNames.filter((n) => n.startsWith('past_key_values.'));
        const width = Number(process.argv[3]);
        const feeds = {
          input_ids: new ort.Tensor('int64', BigInt64Array.of(5n, 6n), [1, 2]),
          seqlens_k: new ort.Tensor('int32', Int32Array.of(1), [1]),
          total_sequence_length: new ort.Tensor('int32', Int32Array.of(2), []),
          num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
        };
        const fetches = { logits: null };
        for (const n of pasts) {
          feeds[n] = new ort.Tensor('float32', new Float32Array(16 * width), [1, 1, 16, width]);
          if (process.argv[2] === 'bound') fetches[n.replace('past_key_values.', 'present.')] = feeds[n];
        }
        const out = await s.run(feeds, fetches);
        const written = feeds[pasts[0]].data.slice(0, 2 * width).some((x) => x !== 0);
        process.stdout.write(JSON.stringify({ logits: out.logits.dims, written }));
      })();`;
    const run = (mode: string): { stdout: string; stderr: string } => spawnSync(process.execPath, ['-e', child, path, mode, String(config.numKvHeads * config.headDim)], { cwd: join(__dirname, '../..'), encoding: 'utf8' });
    const bound = run('bound');
    expect(JSON.parse(bound.stdout)).toEqual({ logits: [1, 1, 500], written: true });
    expect(bound.stderr).not.toMatch(/TensorScatter: in-place optimization not activated/);
    const unbound = run('unbound');
    expect(JSON.parse(unbound.stdout)).toEqual({ logits: [1, 1, 500], written: false });
    expect(unbound.stderr).toMatch(/TensorScatter: in-place optimization not activated/);
  });

  it("the worker runs a float32 cache's attention on the addon's kernel at any thread count (FLEETCHAT_FUSED_ATTENTION=onnxruntime overrides); the kernel refuses a float16 graph", () => {
    expect(fusedAttentionKernel('float32', {})).toBe('fleetchat');
    expect(fusedAttentionKernel('float16', {})).toBe('onnxruntime');
    expect(fusedAttentionKernel('float32', { FLEETCHAT_FUSED_ATTENTION: 'onnxruntime' })).toBe('onnxruntime');
    expect(fusedAttentionKernel('float32', { FLEETCHAT_FUSED_ATTENTION: 'fleetchat' })).toBe('fleetchat');
    expect(fusedAttentionKernel('float16', { FLEETCHAT_FUSED_ATTENTION: 'fleetchat' })).toBe('onnxruntime');
    const path = join(tmp, 'fp16-refused.onnx');
    const config = configOf(false);
    writeOnnxModel(path, buildFusedLlamaDecoder(config, new RandomLlamaWeights(config, 6), { weightFormat: 'fp16' }));
    expect(() => openNativeBoundRunner(path, 1, undefined, 'fleetchat')).toThrow(/cannot create a cpu session/);
  });

  it('fp16 (half-precision weights, activations and KV cache; float32 logits cast inside the graph) runs on the CPU EP close to the reference', async () => {
    const config = configOf(true);
    const weights = new RandomLlamaWeights(config, 5);
    const dir = join(tmp, 'fp16');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'model_fp16.onnx');
    writeOnnxModel(path, buildFusedLlamaDecoder(config, weights, { weightFormat: 'fp16' }));
    writeSafetensors(join(dir, 'model.safetensors'), llamaWeightShapes(config), weights);
    writeJson(dir, 'config.json', toHfLlamaConfig(config, { bosTokenId: 0, eosTokenId: 1 }));
    const session = await ort.InferenceSession.create(path, { logSeverityLevel: 4, intraOpNumThreads: 1 });
    expect(discoverKv(session, dir).dtype).toBe('float16');
    const reference = new ReferenceLlama(dir);
    const cache = Object.fromEntries(session.inputNames.filter((n) => n.startsWith('past_key_values.')).map((n) => [n, new ort.Tensor('float16', new Uint16Array(2 * CAPACITY * 16), [1, 2, CAPACITY, 16])]));
    const pass = async (tokens: number[], from: number): Promise<ort.Tensor> => {
      const fetches = Object.fromEntries(Object.entries(cache).map(([n, t]) => [n.replace('past_key_values.', 'present.'), t]));
      const out = await session.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]),
        seqlens_k: new ort.Tensor('int32', Int32Array.of(from + tokens.length - 1), [1]),
        total_sequence_length: new ort.Tensor('int32', Int32Array.of(from + tokens.length), []),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
        ...cache,
      }, { logits: null, ...fetches });
      for (const [n, t] of Object.entries(cache)) t.data.set(out[n.replace('past_key_values.', 'present.')].data as Uint16Array);
      return out.logits;
    };
    const expected = reference.forward([...PROMPT, 42]);
    const first = await pass(PROMPT, 0);
    expect(first.type).toBe('float32');
    expect(relativeError(first.data as Float32Array, expected[PROMPT.length - 1])).toBeLessThan(1e-2);
    expect(argmax(first.data as Float32Array)).toBe(argmax(expected[PROMPT.length - 1]));
    const second = await pass([42], PROMPT.length); // a decode step over the fp16 cache it wrote
    expect(relativeError(second.data as Float32Array, expected[PROMPT.length])).toBeLessThan(1e-2);
    await session.release();
  });

  it.each([['int4', 4], ['int8', 8]] as const)('%s (MatMulNBits, 8-bit GatherBlockQuantized embedding) at accuracy_level 0 equals the reference on the dequantised weights', async (format, bits) => {
    const config = configOf(false);
    const weights = new RandomLlamaWeights(config, 21);
    const dequantized = new Map<string, WeightTensor>(llamaWeightShapes(config).map(({ name, shape }) => {
      const t = weights.get(name);
      const quantize = shape.length === 2 && name !== 'model.embed_tokens.weight';
      return [name, quantize ? { shape, data: dequantizeBlocks(quantizeBlocks(t.data, shape[0], shape[1], bits)) } : t];
    }));
    // The graph gathers 8-bit embedding rows and multiplies by a `bits` copy of the tied matrix: untied in the reference.
    const embed = weights.get('model.embed_tokens.weight');
    dequantized.set('model.embed_tokens.weight', { shape: embed.shape, data: dequantizeBlocks(quantizeBlocks(embed.data, 500, 64, 8)) });
    dequantized.set('lm_head.weight', { shape: embed.shape, data: dequantizeBlocks(quantizeBlocks(embed.data, 500, 64, bits)) });
    const untied = validateLlamaConfig({ ...config, tieWordEmbeddings: false });
    const m = await fusedModel(format, config, weights, format, { config: untied, weights: new MemoryWeightSource(dequantized) });
    const expected = m.reference.forward(PROMPT);
    const logits = await prefill(m.passes, 0, PROMPT);
    PROMPT.forEach((_, t) => expect(relativeError(row(logits, t), expected[t])).toBeLessThan(1e-4));
    await m.release();
  });
});
