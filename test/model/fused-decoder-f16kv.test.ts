/**
 * The fused decoder graph with a float16 KV cache under float32 activations (`kvCache: 'fp16'`) against the float64
 * reference, through the worker's session for it (the addon with fleetchat's GroupQueryAttention kernel): a prompt,
 * the same prompt in two chunks, a decode pass over rows of different lengths, a slot moved by compaction — every
 * position's argmax equal to the reference's and the logits within half-precision rounding of the cache; fp32 and
 * int4 weights. The graph is marked for the kernel; the standard graph refuses the option.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTENTION_KERNEL_METADATA } from '../../src/common/graph-metadata';
import { buildDecoder } from '../../src/model/llama/build-decoder';
import { buildFusedLlamaDecoder } from '../../src/model/llama/fused-decoder-graph';
import { toHfLlamaConfig, validateLlamaConfig, type ValidLlamaConfig } from '../../src/model/llama/llama-config';
import { llamaWeightShapes } from '../../src/model/llama/llama-weights';
import { writeOnnxModel } from '../../src/model/onnx/model-writer';
import { dequantizeBlocks, quantizeBlocks } from '../../src/model/quant/block-quant';
import { writeJson } from '../../src/model/tiny/hf-files';
import { RandomLlamaWeights } from '../../src/model/tiny/random-llama-weights';
import { writeSafetensors } from '../../src/model/weights/safetensors';
import { MemoryWeightSource, type WeightSource, type WeightTensor } from '../../src/model/weights/weight-source';
import { openFleetchatAttentionSession } from '../../src/worker/engine/fleetchat-attention';
import { readOnnxMetadata } from '../../src/worker/engine/graph-metadata';
import { loadOrtDeviceAddon } from '../../src/worker/engine/native-session';
import type { FusedPasses } from '../../src/worker/engine/session';
import { ReferenceLlama } from '../support/reference-llama';
import { argmax, relativeError } from './decoder-session';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-fused-f16kv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROMPT = [15, 141, 59, 26, 499, 0, 77, 300, 12, 5, 250, 33, 480, 7];
const OTHER = [7, 8, 9];
const SLOTS = 3;
const CAPACITY = 40;
/** The cache's keys and values carry 11 significant bits: logits move by ~3e-4 of their scale here (a float32 cache: ~1e-6). */
const TOLERANCE = 3e-3;

function configOf(bias: boolean): ValidLlamaConfig {
  return validateLlamaConfig({
    vocabSize: 500, hiddenSize: 256, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 64, intermediateSize: 176,
    maxPositionEmbeddings: 64, rmsNormEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true, attentionBias: bias,
  });
}

function row(logits: Float32Array, i: number): Float32Array {
  return logits.subarray(i * 500, (i + 1) * 500);
}

async function prefill(passes: FusedPasses, slot: number, tokens: number[], from = 0): Promise<Float32Array> {
  const out = await passes.forward({
    slots: SLOTS, capacity: CAPACITY, slot, batch: 1, seqLen: tokens.length, inputIds: BigInt64Array.from(tokens, BigInt),
    seqlensK: Int32Array.of(from + tokens.length - 1), totalLength: from + tokens.length, keepLogits: 0, moves: [],
  });
  return out.logits;
}

/** Logits near the reference's, and the same argmax. */
function expectClose(ours: Float32Array, expected: Float64Array | Float32Array | number[]): void {
  expect(relativeError(ours, expected)).toBeLessThan(TOLERANCE);
  expect(argmax(ours)).toBe(argmax(Array.from(expected)));
}

describe('fused decoder graph with a float16 KV cache', () => {
  beforeAll(() => execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' }), 120_000);

  it.each(['fp32', 'int4'] as const)('%s: prompt, chunked prompt, batched decode of different lengths and a moved slot follow the float64 reference', async (format) => {
    const config = configOf(format === 'fp32');
    const weights = new RandomLlamaWeights(config, 5);
    let reference: { config: ValidLlamaConfig; weights: WeightSource } = { config, weights };
    if (format === 'int4') {
      // The reference reads the weights the int4 graph computes with (4-bit linear layers, 8-bit embedding rows).
      const q = new Map<string, WeightTensor>(llamaWeightShapes(config).map(({ name, shape }) => {
        const t = weights.get(name);
        const bits = name === 'model.embed_tokens.weight' ? 8 : 4;
        return [name, shape.length === 2 ? { shape, data: dequantizeBlocks(quantizeBlocks(t.data, shape[0], shape[1], bits)) } : t];
      }));
      const embed = weights.get('model.embed_tokens.weight');
      q.set('lm_head.weight', { shape: embed.shape, data: dequantizeBlocks(quantizeBlocks(embed.data, 500, 256, 4)) });
      reference = { config: validateLlamaConfig({ ...config, tieWordEmbeddings: false }), weights: new MemoryWeightSource(q) };
    }
    const dir = join(tmp, format);
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    const path = join(dir, 'onnx', 'model.onnx');
    writeOnnxModel(path, buildFusedLlamaDecoder(config, weights, { weightFormat: format, accuracyLevel: 0, kvCache: 'fp16' }));
    writeSafetensors(join(dir, 'model.safetensors'), llamaWeightShapes(reference.config), reference.weights);
    writeJson(dir, 'config.json', toHfLlamaConfig(reference.config, { bosTokenId: 0, eosTokenId: 1 }));
    expect(readOnnxMetadata(path).get(ATTENTION_KERNEL_METADATA)).toBe('fleetchat');
    const ref = new ReferenceLlama(dir);
    const session = openFleetchatAttentionSession(loadOrtDeviceAddon(), path, 1);
    expect(session.kv.dtype).toBe('float16');
    const passes = session.fused!;
    try {
      const expected = ref.forward(PROMPT);
      const whole = await prefill(passes, 1, PROMPT);
      PROMPT.forEach((_, t) => expectClose(row(whole, t), expected[t]));
      await prefill(passes, 2, PROMPT.slice(0, 6));
      const tail = await prefill(passes, 2, PROMPT.slice(6), 6);
      expectClose(row(tail, PROMPT.length - 7), expected[PROMPT.length - 1]);
      await prefill(passes, 0, OTHER);
      const next = [argmax(ref.forward(OTHER)[OTHER.length - 1]), argmax(expected[PROMPT.length - 1]), 42];
      const step = await passes.forward({
        slots: SLOTS, capacity: CAPACITY, slot: 0, batch: 3, seqLen: 1, inputIds: BigInt64Array.from(next, BigInt),
        seqlensK: Int32Array.of(OTHER.length, PROMPT.length, PROMPT.length), totalLength: PROMPT.length + 1, keepLogits: 1, moves: [],
      });
      expectClose(row(step.logits, 0), ref.forward([...OTHER, next[0]])[OTHER.length]);
      expectClose(row(step.logits, 1), ref.forward([...PROMPT, next[1]])[PROMPT.length]);
      expectClose(row(step.logits, 2), ref.forward([...PROMPT, next[2]])[PROMPT.length]);
      const moved = await passes.forward({
        slots: SLOTS, capacity: CAPACITY, slot: 0, batch: 1, seqLen: 1, inputIds: BigInt64Array.of(3n),
        seqlensK: Int32Array.of(PROMPT.length + 1), totalLength: PROMPT.length + 2, keepLogits: 1, moves: [[2, 0, PROMPT.length + 1]],
      });
      expectClose(moved.logits, ref.forward([...PROMPT, next[2], 3])[PROMPT.length + 1]);
    } finally {
      await session.release();
    }
  });

  it('is an option of the fused graph only; a float16-weight graph (whose cache is float16 anyway) is not marked', () => {
    const config = configOf(false);
    const weights = new RandomLlamaWeights(config, 6);
    expect(() => buildDecoder(config, weights, { kvCache: 'fp16' })).toThrow(/--kv-cache fp16\) needs the fused graph/);
    expect(() => buildDecoder(config, weights, { graph: 'fused-mha', kvCache: 'fp16' })).toThrow(/needs the fused graph/);
    const half = buildFusedLlamaDecoder(config, weights, { weightFormat: 'fp16', kvCache: 'fp16' });
    expect(half.metadata[ATTENTION_KERNEL_METADATA]).toBeUndefined();
    expect(buildFusedLlamaDecoder(config, weights, { kvCache: 'fp16' }).metadata[ATTENTION_KERNEL_METADATA]).toBe('fleetchat');
  });
});
