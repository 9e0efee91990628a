/**
 * The generated LLaMA decoder against a float64 reference written from the model's definition, and the KV-cache
 * and padding behaviour the engine relies on: left-padded batches, caches of different real lengths in one batch,
 * incremental decoding equal to recomputation.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildLlamaDecoder } from '../../src/model/llama/decoder-graph';
import { toHfLlamaConfig, ValidLlamaConfig, validateLlamaConfig } from '../../src/model/llama/llama-config';
import { llamaWeightShapes } from '../../src/model/llama/llama-weights';
import { writeOnnxModel } from '../../src/model/onnx/model-writer';
import { writeJson } from '../../src/model/tiny/hf-files';
import { createTinyModel } from '../../src/model/tiny/create-tiny-model';
import { RandomLlamaWeights } from '../../src/model/tiny/random-llama-weights';
import { writeSafetensors } from '../../src/model/weights/safetensors';
import { ReferenceLlama } from '../support/reference-llama';
import { emptyPast, logitsAt, openDecoder, Past, relativeError, runSequence, runStep } from './decoder-session';

const PROMPT = [15496, 11, 616, 1438, 318, 1757, 13, 314, 588, 4171, 290];
const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-decoder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function expectMatchesReference(dir: string, tokens: number[]): Promise<void> {
  const session = await openDecoder(dir);
  const reference = new ReferenceLlama(dir);
  const result = await runSequence(session, reference.config, tokens);
  const expected = reference.forward(tokens);
  tokens.forEach((_, t) => expect(relativeError(logitsAt(result, 0, t), expected[t])).toBeLessThan(1e-4));
  await session.release();
}

describe('generated decoder vs float64 reference', () => {
  it('tied embeddings (the tiny preset)', async () => {
    const dir = join(tmp, 'tied');
    await createTinyModel({ outDir: dir, preset: 'tiny', seed: 3 });
    await expectMatchesReference(dir, PROMPT);
  });

  it('untied lm_head, 3 kv groups, rope_theta 500000, external weight file', async () => {
    const dir = join(tmp, 'untied');
    await createTinyModel({ outDir: dir, layers: 3, hidden: 96, heads: 6, kvHeads: 2, intermediate: 200, ropeTheta: 500000, tieEmbeddings: false, externalData: 'always', seed: 4 });
    await expectMatchesReference(dir, PROMPT);
  });

  it('Qwen2-style q/k/v biases, multi-head (kv heads = heads), positions far from 0', async () => {
    const dir = join(tmp, 'bias');
    const config = validateLlamaConfig({
      vocabSize: 500, hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 4, headDim: 16, intermediateSize: 128,
      maxPositionEmbeddings: 4096, rmsNormEps: 1e-6, ropeTheta: 1e6, tieWordEmbeddings: false, attentionBias: true,
    });
    const weights = new RandomLlamaWeights(config, 9);
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    writeOnnxModel(join(dir, 'onnx', 'model.onnx'), buildLlamaDecoder(config, weights));
    writeSafetensors(join(dir, 'model.safetensors'), llamaWeightShapes(config), weights);
    writeJson(dir, 'config.json', { ...toHfLlamaConfig(config, { bosTokenId: 0, eosTokenId: 1 }), model_type: 'qwen2' });
    const session = await openDecoder(dir);
    const tokens = [3, 141, 59, 26, 499, 0];
    const positions = tokens.map((_, i) => 1000 + i);
    const result = await runStep(session, config, { inputIds: [tokens], attentionMask: [tokens.map(() => 1)], positionIds: [positions] });
    const expected = new ReferenceLlama(dir).forward(tokens, positions);
    tokens.forEach((_, t) => expect(relativeError(logitsAt(result, 0, t), expected[t])).toBeLessThan(1e-4));
  });
});

describe('KV cache and padding', () => {
  let session: ort.InferenceSession;
  let config: ValidLlamaConfig;
  beforeAll(async () => {
    const dir = join(tmp, 'cache');
    const made = await createTinyModel({ outDir: dir, preset: 'tiny', seed: 5 });
    config = made.config;
    session = await openDecoder(dir);
  });
  afterAll(async () => session.release());

  it('incremental decoding with past key/values equals recomputing the whole sequence', async () => {
    const full = await runSequence(session, config, PROMPT);
    const prefix = 5;
    let step = await runSequence(session, config, PROMPT.slice(0, prefix));
    // Three tokens at once, then one at a time.
    const chunks = [PROMPT.slice(prefix, prefix + 3), ...PROMPT.slice(prefix + 3).map((t) => [t])];
    let done = prefix;
    for (const chunk of chunks) {
      step = await runStep(session, config, {
        inputIds: [chunk], attentionMask: [Array<number>(done + chunk.length).fill(1)], positionIds: [chunk.map((_, i) => done + i)], past: step.present,
      });
      chunk.forEach((_, i) => expect(relativeError(logitsAt(step, 0, i), logitsAt(full, 0, done + i))).toBeLessThan(1e-5));
      done += chunk.length;
    }
    expect(step.present['past_key_values.0.key'].dims).toEqual([1, config.numKvHeads, PROMPT.length, config.headDim]);
  });

  it('left-padded batch rows (different padding each) give their unbatched logits', async () => {
    const rows = [PROMPT.slice(0, 4), PROMPT, PROMPT.slice(2, 9)];
    const width = Math.max(...rows.map((r) => r.length));
    const pad = (r: number[], fill: number): number[] => [...Array<number>(width - r.length).fill(fill), ...r];
    const batch = await runStep(session, config, {
      inputIds: rows.map((r) => pad(r, 50256)),
      attentionMask: rows.map((r) => pad(r.map(() => 1), 0)),
      // As transformers.js: cumsum(mask) - 1, padding positions set to 1.
      positionIds: rows.map((r) => pad(r.map((_, i) => i), 1)),
    });
    for (const [b, row] of rows.entries()) {
      expect(batch.logits.every(Number.isFinite)).toBe(true);
      const alone = await runSequence(session, config, row);
      row.forEach((_, t) => expect(relativeError(logitsAt(batch, b, width - row.length + t), logitsAt(alone, 0, t))).toBeLessThan(1e-5));
    }
  });

  it('a batch of left-padded caches of different real lengths decodes like each row alone', async () => {
    const a = PROMPT.slice(0, 3);
    const b = PROMPT.slice(0, 8);
    const next = [[616, 1438], [318, 1757]]; // two decode steps per row
    const aloneA = await runSequence(session, config, [...a, ...next.map((n) => n[0])]);
    const aloneB = await runSequence(session, config, [...b, ...next.map((n) => n[1])]);
    const cacheA = (await runSequence(session, config, a)).present;
    const cacheB = (await runSequence(session, config, b)).present;
    // Row a's cache is left-padded to row b's length with garbage: the mask must hide it.
    let past = stackLeftPadded([cacheA, cacheB], b.length, config);
    const maskRows = [[...Array<number>(b.length - a.length).fill(0), ...a.map(() => 1)], b.map(() => 1)];
    for (const [s, tokens] of next.entries()) {
      maskRows.forEach((m) => m.push(1));
      const step = await runStep(session, config, { inputIds: tokens.map((t) => [t]), attentionMask: maskRows, positionIds: [[a.length + s], [b.length + s]], past });
      expect(relativeError(logitsAt(step, 0, 0), logitsAt(aloneA, 0, a.length + s))).toBeLessThan(1e-5);
      expect(relativeError(logitsAt(step, 1, 0), logitsAt(aloneB, 0, b.length + s))).toBeLessThan(1e-5);
      past = step.present;
    }
  });

  it('num_logits_to_keep N returns the last N positions of every padded row, equal to the full logits', async () => {
    const rows = [PROMPT.slice(0, 4), PROMPT];
    const width = PROMPT.length;
    const pad = (r: number[], fill: number): number[] => [...Array<number>(width - r.length).fill(fill), ...r];
    const step = { inputIds: rows.map((r) => pad(r, 50256)), attentionMask: rows.map((r) => pad(r.map(() => 1), 0)), positionIds: rows.map((r) => pad(r.map((_, i) => i), 1)) };
    const full = await runStep(session, config, step);
    expect(full.dims).toEqual([2, width, config.vocabSize]);
    for (const keep of [1, 3]) {
      const trimmed = await runStep(session, config, { ...step, keepLogits: keep });
      expect(trimmed.dims).toEqual([2, keep, config.vocabSize]);
      for (let b = 0; b < rows.length; b++) {
        for (let i = 0; i < keep; i++) expect(relativeError(logitsAt(trimmed, b, i), logitsAt(full, b, width - keep + i))).toBeLessThan(1e-6);
      }
      expect(trimmed.present['past_key_values.0.key'].dims).toEqual(full.present['past_key_values.0.key'].dims);
    }
  });

  it('an empty past of batch 2 with a single token each works (first decode step from nothing)', async () => {
    const step = await runStep(session, config, { inputIds: [[15496], [11]], attentionMask: [[1], [1]], positionIds: [[0], [0]], past: emptyPast(config, 2) });
    expect(step.dims).toEqual([2, 1, config.vocabSize]);
  });
});

/** Stacks single-row caches into one batch, each left-padded (with random garbage) to `length` slots. */
function stackLeftPadded(caches: Past[], length: number, c: ValidLlamaConfig): Past {
  const out: Past = {};
  for (const name of Object.keys(caches[0])) {
    const data = new Float32Array(caches.length * c.numKvHeads * length * c.headDim).map(() => Math.random() * 100 - 50);
    caches.forEach((cache, b) => {
      const t = cache[name];
      const real = t.dims[2];
      const src = t.data as Float32Array;
      for (let h = 0; h < c.numKvHeads; h++) {
        const dst = ((b * c.numKvHeads + h) * length + (length - real)) * c.headDim;
        data.set(src.subarray(h * real * c.headDim, (h + 1) * real * c.headDim), dst);
      }
    });
    out[name] = new ort.Tensor('float32', data, [caches.length, c.numKvHeads, length, c.headDim]);
  }
  return out;
}
