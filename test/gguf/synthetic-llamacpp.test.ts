/**
 * Architecture handling against llama.cpp itself (node-llama-cpp 3.21.1): small random-weight GGUF models of each
 * supported layout — `llama` (q/k rows permuted for interleaved RoPE, with and without q/k/v biases, tied and untied
 * lm_head) and `qwen2` (rotate-half RoPE, unpermuted, q/k/v biases) — are imported and run by onnxruntime, and
 * llama.cpp runs the very same files. F32 weights on both sides, so every greedy step must agree and the
 * next-token probabilities must match closely.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importGguf } from '../../src/model/gguf/import-gguf';
import { argmax, logitsAt, openDecoder, relativeError, runSequence } from '../model/decoder-session';
import { LlamaCpp } from '../../bench/real/llamacpp-client';
import { writeQuantisedSyntheticGguf, writeSyntheticGguf, type SyntheticOptions } from './support/synthetic-gguf';

jest.setTimeout(120_000);

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROMPTS = [[464, 2068, 7586, 21831], [40, 716, 257, 1310, 318, 257], [50257, 7220, 198, 15496, 50258, 198, 50257, 562]];
const STEPS = 12;

function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

const VARIANTS: Array<[string, SyntheticOptions]> = [
  ['llama, tied lm_head', { arch: 'llama', tied: true }],
  ['llama, untied lm_head, q/k/v biases', { arch: 'llama', tied: false, bias: true, seed: 11 }],
  ['qwen2, tied lm_head', { arch: 'qwen2', tied: true, seed: 3 }],
  ['qwen2, untied lm_head, 3 layers', { arch: 'qwen2', tied: false, seed: 5, layers: 3 }],
];

describe('imported GGUF vs llama.cpp on the same file', () => {
  it.each(VARIANTS)('%s: identical greedy path, same next-token probabilities', async (label, options) => {
    const file = join(tmp, `${label.replace(/\W+/g, '-')}.gguf`);
    const config = writeSyntheticGguf(file, options);
    const imported = await importGguf({ file, outDir: join(tmp, `${label.replace(/\W+/g, '-')}-onnx`) });
    expect(imported.config).toEqual(config);
    const session = await openDecoder(imported.dir, { intraOpNumThreads: 1 });
    const llama = await LlamaCpp.open(file, { threads: 1, contextSize: 256, kvCacheType: 'F32' });
    try {
      for (const prompt of PROMPTS) {
        const steps = await llama.stepProbabilities(prompt, STEPS, 5);
        const path = steps.map((s) => s.token);
        const run = await runSequence(session, config, [...prompt, ...path]);
        steps.forEach((step, i) => {
          const logits = logitsAt(run, 0, prompt.length - 1 + i);
          expect(argmax(logits)).toBe(step.token);
          const probs = softmax(logits);
          for (const [token, p] of step.top) expect(Math.abs(probs[token] - p)).toBeLessThan(5e-4);
        });
      }
    } finally {
      await llama.close();
      await session.release();
    }
  });
});

describe('int4 graphs compute with the GGUF\'s own 4-bit blocks', () => {
  it.each([
    ['Q4_0', 'llama'],
    ['Q4_1', 'llama'],
    ['Q4_K', 'qwen2'],
  ] as const)('%s (%s): int4 logits equal the fp32 (dequantised) graph\'s, and llama.cpp agrees', async (type, arch) => {
    const file = join(tmp, `q4-${type}.gguf`);
    const options: SyntheticOptions = { arch, tied: true, seed: 21, hidden: 256, intermediate: 512 };
    const config = writeQuantisedSyntheticGguf(file, options, type);
    const outDir = join(tmp, `q4-${type}-onnx`);
    const imported = await importGguf({ file, outDir, weightFormats: ['fp32', 'int4'], accuracyLevel: 0 });
    expect(imported.int4).toEqual({ exact: 2 * 4 + 1, widened: 0 });
    const fp32 = await openDecoder(outDir, { intraOpNumThreads: 1 });
    const int4 = await openDecoder(outDir, { intraOpNumThreads: 1 }, 'model_q4.onnx');
    const llama = await LlamaCpp.open(file, { threads: 1, contextSize: 256, kvCacheType: 'F32' });
    try {
      for (const prompt of PROMPTS) {
        const path = await llama.greedy(prompt, STEPS);
        const tokens = [...prompt, ...path];
        const a = await runSequence(fp32, config, tokens);
        const b = await runSequence(int4, config, tokens);
        expect(relativeError(b.logits, a.logits)).toBeLessThan(1e-4);
        // llama.cpp rounds activations to 8 bits for 4-bit weights: its greedy choices are ours or near-ties.
        path.forEach((token, i) => {
          const logits = logitsAt(a, 0, prompt.length - 1 + i);
          expect(logits[argmax(logits)] - logits[token]).toBeLessThan(0.5);
        });
      }
    } finally {
      await llama.close();
      await fp32.release();
      await int4.release();
    }
  });
});
