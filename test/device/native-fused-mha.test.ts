/**
 * The fused-mha graph (float32 on CUDA: ONNX Attention over a KV cache written in place by TensorScatter, see
 * src/model/llama/fused-mha-decoder-graph.ts) through the engine, on the CPU EP: with its KV pool in the native addon
 * (device-kv-pool.ts, the CUDA path's code), with --cuda-graph's static decode buckets (padding rows over free slots),
 * and with the engine's host pool (prefix reuse included). Greedy tokens must equal the standard float32 graph's of the same weights, alone and
 * batched with rows joining, leaving and moving slots, and prompts of different lengths prefilled in one padded pass;
 * with the graph's greedy_tokens a decode step downloads only the logits rows that sampling or logprobs need, and a
 * batch mixing such rows gives the host pool's tokens and logprobs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { CPU_DEVICE } from '../../src/worker/device/execution-provider';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { expectMixedBatchLike, greedyTokens as greedy } from '../support/greedy';
import { generatedModel, tinyModel } from '../support/models';

const PROMPTS = ['The quick brown fox', 'One two three four five six seven', 'A', 'Tell me about the weather in Paris today please', 'Hi', 'Numbers: 1 2 3'];
const LENGTHS = [9, 14, 5, 20, 3, 11]; // rows leave at different steps: the last slot's holder moves into the freed one

describe('fused-mha graph (float32 for CUDA) through the engine on the CPU EP', () => {
  let standard: GenerationRuntime;
  const runtimes: Record<'host pool' | 'device pool' | 'cuda-graph buckets', GenerationRuntime | undefined> = { 'host pool': undefined, 'device pool': undefined, 'cuda-graph buckets': undefined };
  let expected: number[][];
  beforeAll(async () => {
    execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' });
    const dir = await generatedModel('tiny-fused-mha', { preset: 'tiny', graph: 'fused-mha', weightFormats: ['fp32'] });
    const base = { source: 'tiny', modelNames: ['tiny'], threads: 1, maxConcurrency: 4, maxQueue: 64, maxPrefillTokens: 4096, prefixCacheBytes: 8 << 20, logger: silentLogger(), weights: 'fp32' as const };
    standard = await loadGenerationRuntime({ ...base, dir: await tinyModel() });
    runtimes['host pool'] = await loadGenerationRuntime({ ...base, dir, nativeKv: false });
    runtimes['device pool'] = await loadGenerationRuntime({ ...base, dir, nativeKv: true });
    runtimes['cuda-graph buckets'] = await loadGenerationRuntime({ ...base, dir, nativeKv: true, device: { ...CPU_DEVICE, cudaGraph: true } });
    expected = [];
    for (let i = 0; i < PROMPTS.length; i++) expected.push(await greedy(standard, PROMPTS[i], LENGTHS[i]));
  }, 180_000);
  afterAll(async () => Promise.all([standard?.release(), ...Object.values(runtimes).map((rt) => rt?.release())]));

  it.each(['host pool', 'device pool', 'cuda-graph buckets'] as const)('%s: greedy tokens equal the standard graph\'s, alone and batched with joins, leaves and slot moves', async (name) => {
    const rt = runtimes[name];
    if (!rt) throw new Error(`${name} did not load`);
    // The addon's pool never comes to the host (no prefix reuse); the host pool reuses prefixes of finished prompts.
    if (name === 'host pool') expect(rt.engine.prefixCacheStats()).toBeDefined();
    else expect(rt.engine.prefixCacheStats()).toBeUndefined();
    expect(await greedy(rt, PROMPTS[3], LENGTHS[3])).toEqual(expected[3]);
    // Six requests over four slots: rows finish, the last slot moves into the freed one, queued requests join.
    expect(await Promise.all(PROMPTS.map((p, i) => greedy(rt, p, LENGTHS[i])))).toEqual(expected);
    // Three at once (a bucket of 4 with one padding row over the free slot); a slot reused after others left.
    expect(await Promise.all([0, 4, 5].map((i) => greedy(rt, PROMPTS[i], LENGTHS[i])))).toEqual([0, 4, 5].map((i) => expected[i]));
    expect(await greedy(rt, PROMPTS[1], LENGTHS[1])).toEqual(expected[1]);
  }, 120_000);

  it('the graph\'s greedy_tokens: a batch mixing greedy, sampled, logprob and penalised rows gives the host pool\'s tokens and logprobs on the device pool and the buckets', async () => {
    const host = runtimes['host pool'];
    const device = runtimes['device pool'];
    const buckets = runtimes['cuda-graph buckets'];
    if (!host || !device || !buckets) throw new Error('a runtime did not load');
    await expectMixedBatchLike(host, [device, buckets], PROMPTS, LENGTHS);
  }, 120_000);
});
