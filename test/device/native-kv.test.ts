/**
 * The device-resident KV path (native/ort-device over onnxruntime's C API with IO binding), run here on the CPU EP:
 * the same addon, protocol and batch assembly that keep the cache on the GPU with CUDA. Greedy output must equal the
 * onnxruntime-node path token for token, alone and batched with sequences joining and leaving.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { greedyTokens as greedy } from '../support/greedy';
import { tinyModel } from '../support/models';

describe('KV cache kept by the native addon (CPU EP)', () => {
  let host: GenerationRuntime;
  let device: GenerationRuntime;
  beforeAll(async () => {
    execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' });
    const dir = await tinyModel();
    const base = { dir, source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto' as const, maxConcurrency: 4, maxQueue: 64, maxPrefillTokens: 4096, logger: silentLogger() };
    host = await loadGenerationRuntime({ ...base, nativeKv: false });
    device = await loadGenerationRuntime({ ...base, nativeKv: true });
  }, 120_000);
  afterAll(async () => {
    await host?.release();
    await device?.release();
  });

  it('gives the same greedy tokens as onnxruntime-node, alone and batched with joins and leaves', async () => {
    const prompts = ['The quick brown fox', 'One two three four five six seven', 'A', 'Tell me about the weather in Paris today please', 'Hi', 'Numbers: 1 2 3'];
    const lengths = [9, 14, 5, 20, 3, 11]; // different lengths: rows leave the batch at different steps
    const expected: number[][] = [];
    for (let i = 0; i < prompts.length; i++) expected.push(await greedy(host, prompts[i], lengths[i]));
    expect(await greedy(device, prompts[0], lengths[0])).toEqual(expected[0]);
    // Six requests over four slots: the batch is re-assembled as rows finish and queued ones join.
    const batched = await Promise.all(prompts.map((p, i) => greedy(device, p, lengths[i])));
    expect(batched).toEqual(expected);
  }, 60_000);
});
