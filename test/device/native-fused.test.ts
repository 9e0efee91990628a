/**
 * A fused graph's KV pool owned by the native addon (device-kv-pool.ts: cudaMalloc'd on a GPU), run here on the CPU
 * EP: the same addon calls, sub-range binding, in-place GroupQueryAttention and slot moves carried by the passes as
 * on CUDA. Greedy output must equal the existing fused path (host pool in SharedArrayBuffers) token for token, alone
 * and batched with rows joining and leaving; the fp16 graph runs through the same pool in half precision. Prompts of
 * different lengths admitted together are prefilled in one right-padded pass (fused-step.ts prefillGroup) on both
 * pools and give each prompt's tokens alone (a row whose cache kept its padding, or whose first token came from the
 * padded end, would not). The graph's own argmax (greedy_tokens) lets a decode step leave the logits of greedy rows
 * in device memory: only the rows that sample, process or report logprobs download theirs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { CPU_DEVICE } from '../../src/worker/device/execution-provider';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { openDevicePoolSession } from '../../src/worker/engine/device-kv-pool';
import type { FusedForwardInput } from '../../src/worker/engine/fused-kv-pool';
import { expectMixedBatchLike, greedyTokens as greedy } from '../support/greedy';
import { generatedModel } from '../support/models';

const PROMPTS = ['The quick brown fox', 'One two three four five six seven', 'A', 'Tell me about the weather in Paris today please', 'Hi', 'Numbers: 1 2 3'];
const LENGTHS = [9, 14, 5, 20, 3, 11]; // rows leave at different steps: the last slot's holder moves into the freed one

describe('fused graph with its KV pool in the native addon (CPU EP)', () => {
  let host: GenerationRuntime;
  let device: GenerationRuntime;
  let half: GenerationRuntime;
  let buckets: GenerationRuntime;
  let dir: string;
  const prefillPasses: number[] = []; // prompt tokens of each prefill pass, of every runtime
  beforeAll(async () => {
    execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' });
    dir = await generatedModel('tiny-fused-fp16', { preset: 'tiny', graph: 'fused', weightFormats: ['fp32', 'fp16'] });
    const observer = { onPrefillTokens: (n: number) => prefillPasses.push(n) };
    const base = { dir, source: 'tiny', modelNames: ['tiny'], threads: 1, maxConcurrency: 4, maxQueue: 64, maxPrefillTokens: 4096, prefixCacheBytes: 8 << 20, logger: silentLogger(), observer };
    host = await loadGenerationRuntime({ ...base, weights: 'fp32', nativeKv: false });
    device = await loadGenerationRuntime({ ...base, weights: 'fp32', nativeKv: true });
    half = await loadGenerationRuntime({ ...base, weights: 'fp16', nativeKv: true });
    // --cuda-graph's static decode buckets (padding rows over free slots, inputs and logits at fixed addresses), here
    // without the graphs: a CPU device asking for them runs the same buckets on the CPU EP.
    buckets = await loadGenerationRuntime({ ...base, weights: 'fp32', nativeKv: true, device: { ...CPU_DEVICE, cudaGraph: true } });
  }, 180_000);
  afterAll(async () => Promise.all([host?.release(), device?.release(), half?.release(), buckets?.release()]));

  it('gives the same greedy tokens as the host pool, alone and batched with joins and leaves; prefix reuse is off', async () => {
    expect(host.engine.prefixCacheStats()).toBeDefined();
    expect(device.engine.prefixCacheStats()).toBeUndefined(); // positions never come to the host
    const expected: number[][] = [];
    for (let i = 0; i < PROMPTS.length; i++) expected.push(await greedy(host, PROMPTS[i], LENGTHS[i]));
    expect(await greedy(device, PROMPTS[0], LENGTHS[0])).toEqual(expected[0]);
    // Six requests over four slots: rows finish, the last slot moves into the freed one, queued requests join.
    expect(await Promise.all(PROMPTS.map((p, i) => greedy(device, p, LENGTHS[i])))).toEqual(expected);
    // The same prompts again: slots reused, a request after others left starts from a clean slot.
    expect(await greedy(device, PROMPTS[3], LENGTHS[3])).toEqual(expected[3]);
  }, 120_000);

  it('--cuda-graph buckets (3 rows run as 4, 2 as 2, ...) give the same greedy tokens, alone and with joins and leaves', async () => {
    const expected = await Promise.all(PROMPTS.map((p, i) => greedy(host, p, LENGTHS[i])));
    expect(await greedy(buckets, PROMPTS[1], LENGTHS[1])).toEqual(expected[1]);
    expect(await Promise.all(PROMPTS.map((p, i) => greedy(buckets, p, LENGTHS[i])))).toEqual(expected);
    // Three at once: a bucket of 4 with one padding row over the free slot.
    expect(await Promise.all([0, 3, 5].map((i) => greedy(buckets, PROMPTS[i], LENGTHS[i])))).toEqual([0, 3, 5].map((i) => expected[i]));
  }, 120_000);

  it('runs the fp16 graph (half-precision pool, float32 logits) batched as alone', async () => {
    const alone: number[][] = [];
    for (let i = 0; i < PROMPTS.length; i++) alone.push(await greedy(half, PROMPTS[i], LENGTHS[i]));
    alone.forEach((ids, i) => expect(ids).toHaveLength(LENGTHS[i]));
    expect(await Promise.all(PROMPTS.map((p, i) => greedy(half, p, LENGTHS[i])))).toEqual(alone);
    // fp16 against fp32: the same model, rounded; report the agreement, do not require it.
    const fp32 = await Promise.all(PROMPTS.map((p, i) => greedy(host, p, LENGTHS[i])));
    const same = fp32.flat().filter((t, k) => t === alone.flat()[k]).length;
    process.stdout.write(`fp16 vs fp32 greedy agreement on the tiny model: ${same}/${fp32.flat().length} tokens\n`);
  }, 120_000);

  it('prefills prompts of different lengths admitted together in one right-padded pass, each row as alone (host pool, device pool, fp16)', async () => {
    const four = PROMPTS.slice(0, 4); // 4, 7, 1 and 9 tokens: one slot each
    for (const rt of [host, device, half]) {
      const alone: number[][] = [];
      for (let i = 0; i < four.length; i++) alone.push(await greedy(rt, four[i], LENGTHS[i]));
      prefillPasses.length = 0;
      expect(await Promise.all(four.map((p, i) => greedy(rt, p, LENGTHS[i])))).toEqual(alone);
      expect(prefillPasses).toEqual([four.reduce((n, p) => n + rt.prompts.fromText(p).ids.length, 0)]);
    }
  }, 120_000);

  it('a decode step downloads only the logits rows that need them; the other rows take the graph\'s greedy tokens', async () => {
    const session = openDevicePoolSession(join(dir, 'onnx', 'model.onnx'), { device: 'cpu', deviceId: 0, threads: 1, allowTf32: false });
    try {
      const passes = session.fused;
      expect(passes?.greedyOnDevice).toBe(true);
      if (!passes) return;
      const pass = (input: Partial<FusedForwardInput>): ReturnType<typeof passes.forward> =>
        passes.forward({ slots: 2, capacity: 32, slot: 0, batch: 2, seqLen: 1, inputIds: BigInt64Array.of(5n, 9n), seqlensK: Int32Array.of(3, 3), totalLength: 4, keepLogits: 1, moves: [], ...input });
      await pass({ seqLen: 3, inputIds: BigInt64Array.of(1n, 2n, 3n, 4n, 5n, 6n), seqlensK: Int32Array.of(2, 2), totalLength: 3 });
      // The same decode step three times (it rewrites position 3 with the same keys and values): every row, row 1, none.
      const all = await pass({});
      const one = await pass({ logitRows: Int32Array.of(1) });
      const none = await pass({ logitRows: new Int32Array(0) });
      const v = all.vocab;
      expect(all.logits).toHaveLength(2 * v);
      expect(all.logitRows).toBeUndefined();
      expect(one.logitRows).toEqual(Int32Array.of(1));
      expect(one.logits).toEqual(all.logits.subarray(v, 2 * v));
      expect(none.logits).toHaveLength(0);
      const argmax = (row: Float32Array): number => row.indexOf(Math.max(...row));
      const expected = [argmax(all.logits.subarray(0, v)), argmax(all.logits.subarray(v))];
      for (const out of [all, one, none]) expect([...(out.greedy ?? [])]).toEqual(expected);
    } finally {
      await session.release();
    }
  });

  it('gives the same tokens and logprobs in a batch mixing greedy, sampled, logprob and penalised rows (host pool, device pool, buckets)', async () => {
    await expectMixedBatchLike(host, [device, buckets], PROMPTS, LENGTHS);
  }, 120_000);
});
