/**
 * int4 / int8 weights through com.microsoft MatMulNBits: the graph computes exactly with the dequantised weights
 * (checked against the float64 reference run on those weights), stays close to the float32 model, and keeps the
 * optimum interface under the file names transformers.js uses.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLlamaDecoder } from '../../src/model/llama/decoder-graph';
import { toHfLlamaConfig, validateLlamaConfig } from '../../src/model/llama/llama-config';
import { llamaWeightShapes } from '../../src/model/llama/llama-weights';
import { writeOnnxModel } from '../../src/model/onnx/model-writer';
import { dequantizeBlocks, quantizeBlocks } from '../../src/model/quant/block-quant';
import { writeJson } from '../../src/model/tiny/hf-files';
import { createTinyModel } from '../../src/model/tiny/create-tiny-model';
import { RandomLlamaWeights } from '../../src/model/tiny/random-llama-weights';
import { writeSafetensors } from '../../src/model/weights/safetensors';
import { MemoryWeightSource, WeightTensor } from '../../src/model/weights/weight-source';
import { ReferenceLlama } from '../support/reference-llama';
import { greedyTokens, logitsAt, openDecoder, relativeError, runSequence } from './decoder-session';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-quant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PROMPT = [15, 141, 59, 26, 499, 0, 77, 300];

/** Pearson correlation of two equally long vectors. */
function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('blockwise quantisation', () => {
  it('round-trips within half a step per block, including a ragged last block', () => {
    const rows = 3;
    const cols = 45;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7)));
    for (const bits of [4, 8] as const) {
      const q = quantizeBlocks(w, rows, cols, bits, 32);
      const back = dequantizeBlocks(q);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const step = q.scales[r * q.blocksPerRow + Math.floor(c / 32)];
          expect(Math.abs(back[r * cols + c] - w[r * cols + c])).toBeLessThanOrEqual(step / 2 + 1e-6);
        }
      }
    }
  });
});

describe('MatMulNBits decoder', () => {
  const config = validateLlamaConfig({
    vocabSize: 500, hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 176,
    maxPositionEmbeddings: 1024, rmsNormEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true, attentionBias: false,
  });
  const weights = new RandomLlamaWeights(config, 21);

  it.each([['int4', 4], ['int8', 8]] as const)('%s at accuracy_level 0 equals the float64 reference on the dequantised weights', async (format, bits) => {
    const dir = join(tmp, `exact-${format}`);
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    writeOnnxModel(join(dir, 'onnx', 'model.onnx'), buildLlamaDecoder(config, weights, { weightFormat: format, accuracyLevel: 0 }));
    // The reference reads the weights the graph really uses: linear layers and the (tied) lm_head dequantised.
    const shapes = llamaWeightShapes(config);
    const dequantized = new Map<string, WeightTensor>(shapes.map(({ name, shape }) => {
      const t = weights.get(name);
      const quantize = shape.length === 2 && name !== 'model.embed_tokens.weight';
      return [name, quantize ? { shape, data: dequantizeBlocks(quantizeBlocks(t.data, shape[0], shape[1], bits)) } : t];
    }));
    // Untie in the reference: the graph gathers float32 embeddings but multiplies by the quantised copy.
    const embed = weights.get('model.embed_tokens.weight');
    dequantized.set('lm_head.weight', { shape: embed.shape, data: dequantizeBlocks(quantizeBlocks(embed.data, 500, 64, bits)) });
    const untied = validateLlamaConfig({ ...config, tieWordEmbeddings: false });
    writeSafetensors(join(dir, 'model.safetensors'), llamaWeightShapes(untied), new MemoryWeightSource(dequantized));
    writeJson(dir, 'config.json', toHfLlamaConfig(untied, { bosTokenId: 0, eosTokenId: 1 }));
    const session = await openDecoder(dir);
    const result = await runSequence(session, config, PROMPT);
    const expected = new ReferenceLlama(dir).forward(PROMPT);
    PROMPT.forEach((_, t) => expect(relativeError(logitsAt(result, 0, t), expected[t])).toBeLessThan(1e-4));
    await session.release();
  });

  it('createTinyModel writes model_q4.onnx / model_int8.onnx next to model.onnx with the same interface', async () => {
    const dir = join(tmp, 'formats');
    const made = await createTinyModel({ outDir: dir, preset: 'tiny', weightFormats: ['fp32', 'int8', 'int4'], safetensors: false });
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['model.onnx', 'model_int8.onnx', 'model_q4.onnx']);
    const fp32 = await openDecoder(dir);
    for (const [file, format] of [['model_int8.onnx', 'int8'], ['model_q4.onnx', 'int4']] as const) {
      const session = await openDecoder(dir, {}, file);
      expect(session.inputNames).toEqual(fp32.inputNames);
      expect(session.outputNames).toEqual(fp32.outputNames);
      // accuracy_level 4 (int8 activations, the default) barely moves the logits of exact compute on the same weights.
      const exactPath = join(dir, `exact-${file}`);
      writeOnnxModel(exactPath, buildLlamaDecoder(made.config, new RandomLlamaWeights(made.config, made.seed), { weightFormat: format, accuracyLevel: 0 }));
      const exact = await openDecoder(dir, {}, `../exact-${file}`);
      const [fast, slow] = [await runSequence(session, made.config, PROMPT), await runSequence(exact, made.config, PROMPT)];
      const full = await runSequence(fp32, made.config, PROMPT);
      expect(correlation(fast.logits, slow.logits)).toBeGreaterThan(0.999);
      // Still the same model as float32 (int4 on these random weights correlates ~0.96, int8 ~0.9996).
      expect(correlation(fast.logits, full.logits)).toBeGreaterThan(0.9);
      expect(new Set(await greedyTokens(session, made.config, PROMPT, 16)).size).toBeGreaterThan(8);
      await Promise.all([session.release(), exact.release()]);
    }
    await fp32.release();
  });
});
