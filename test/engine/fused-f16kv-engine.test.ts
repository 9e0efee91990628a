/**
 * The worker on a fused graph with a float16 KV cache under float32 activations (`--kv-cache fp16`): the graph is
 * marked for fleetchat's attention kernel, the worker opens it on the ort_device addon at any thread count, generates
 * the fp32-cache graph's greedy tokens, sizes its slots at 2 bytes per cached value, reuses prefixes (copied in
 * float16) — and refuses it, saying why, where that kernel cannot run it (addon missing or stale, onnxruntime's kernel
 * asked for, a GPU).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetError } from '../../src/common/errors';
import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { CPU_DEVICE } from '../../src/worker/device/execution-provider';
import { fleetchatAttentionAddon } from '../../src/worker/engine/fleetchat-attention';
import { needsFleetchatAttention } from '../../src/worker/engine/graph-metadata';
import type { AttentionKernel } from '../../src/worker/engine/native-session';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { generatedModel } from '../support/models';
import { runRequest } from '../support/engine-run';

const run = runRequest;

const PROMPTS = ['The quick brown fox', 'One two three four five six seven', 'A', 'Tell me about the weather in Paris today please'];
const GREEDY = { temperature: 0, maxTokens: 16, ignoreEos: true };
interface LoadExtra { threads?: number; maxKvBytes?: number; prefixCacheBytes?: number; fusedAttention?: AttentionKernel }
const load = (dir: string, extra: LoadExtra = {}): Promise<GenerationRuntime> =>
  loadGenerationRuntime({ dir, source: 'tiny', modelNames: ['tiny'], threads: extra.threads ?? 1, weights: 'auto', maxConcurrency: 4, maxQueue: 64, maxPrefillTokens: 4096, maxKvBytes: extra.maxKvBytes, prefixCacheBytes: extra.prefixCacheBytes, fusedAttention: extra.fusedAttention, logger: silentLogger() });
const halfModel = (): Promise<string> => generatedModel('tiny-fused-f16kv', { preset: 'tiny', graph: 'fused', kvCache: 'fp16' });

describe('worker on a fused graph with a float16 KV cache', () => {
  let full: GenerationRuntime;
  let expected: number[][];
  beforeAll(async () => {
    execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' });
    full = await load(await generatedModel('tiny-fused', { preset: 'tiny', graph: 'fused' }));
    expected = [];
    for (const p of PROMPTS) expected.push((await run(full, p, GREEDY)).ids);
  }, 120_000);
  afterAll(() => full?.release());

  it('is marked for fleetchat\'s kernel (the fp32-cache graph is not)', async () => {
    expect(needsFleetchatAttention(join(await halfModel(), 'onnx', 'model.onnx'))).toBe(true);
    expect(needsFleetchatAttention(join(await generatedModel('tiny-fused', { preset: 'tiny', graph: 'fused' }), 'onnx', 'model.onnx'))).toBe(false);
  });

  it.each([1, 2])('generates the fp32-cache graph\'s greedy tokens on %i thread(s), alone and batched over reused slots', async (threads) => {
    const half = await load(await halfModel(), { threads });
    try {
      for (const [i, p] of PROMPTS.entries()) expect((await run(half, p, GREEDY)).ids).toEqual(expected[i]);
      const mixed = await Promise.all([...PROMPTS, ...PROMPTS].map((p, i) => run(half, p, { ...GREEDY, maxTokens: 4 + (i % 3) * 5 })));
      mixed.forEach((r, i) => expect(r.ids).toEqual(expected[i % PROMPTS.length].slice(0, 4 + (i % 3) * 5)));
    } finally {
      await half.release();
    }
  });

  it('sizes its slots at 2 bytes per cached value: the budget of 64 fp32 positions holds 128', async () => {
    // tiny: 2 layers × 2 kv heads × 16 dims × (key + value) = 128 values per position: 256 bytes in float16.
    const half = await load(await halfModel(), { maxKvBytes: 4 * 64 * 512 });
    try {
      await expect(run(half, 'Hello', { temperature: 0, maxTokens: 200 })).rejects.toThrow(/context length 128/);
      const out = await run(half, 'Hello', { temperature: 0, ignoreEos: true });
      expect(out.finish).toBe(FinishReason.FINISH_REASON_LENGTH);
      expect(out.ids.length + half.prompts.fromText('Hello').ids.length).toBe(128);
    } finally {
      await half.release();
    }
  });

  it('reuses a cached prefix (float16 positions copied into the slot) with the same tokens', async () => {
    const half = await load(await halfModel(), { prefixCacheBytes: 1 << 20 });
    try {
      const long = `${PROMPTS.join('. ')}. ${PROMPTS.join('. ')}.`;
      const first = await run(half, long, GREEDY);
      const again = await run(half, long, GREEDY);
      expect(half.engine.prefixCacheStats()?.reusedTokens).toBeGreaterThan(16);
      expect(again.cached).toBeGreaterThan(16);
      expect(again.ids).toEqual(first.ids);
      expect(first.ids).toEqual((await run(full, long, GREEDY)).ids);
    } finally {
      await half.release();
    }
  });

  it('is refused, saying why, when the addon cannot run it, when onnxruntime\'s kernel is asked for, and on a GPU', async () => {
    const dir = await halfModel();
    const stale = mkdtempSync(join(tmpdir(), 'stale-addon-'));
    writeFileSync(join(stale, 'ort_device.js'), 'module.exports = { load() { return ""; }, createSession() {}, run() {} };');
    // The check the session thread makes before it opens the graph (jest's process.env does not reach that thread).
    const previous = process.env.FLEETCHAT_ORT_DEVICE_ADDON;
    process.env.FLEETCHAT_ORT_DEVICE_ADDON = join(stale, 'ort_device.js');
    try {
      const refused = (): unknown => fleetchatAttentionAddon(join(dir, 'onnx', 'model.onnx'), CPU_DEVICE, undefined);
      expect(refused).toThrow(/--kv-cache fp16.*ort_device addon.*older than its source \(no .*attentionCacheTypes\)/);
      expect(refused).toThrow(expect.objectContaining({ kind: 'unavailable', code: 'attention_kernel_unavailable' }));
    } finally {
      if (previous === undefined) delete process.env.FLEETCHAT_ORT_DEVICE_ADDON;
      else process.env.FLEETCHAT_ORT_DEVICE_ADDON = previous;
      rmSync(stale, { recursive: true, force: true });
    }
    await expect(load(dir, { fusedAttention: 'onnxruntime' })).rejects.toMatchObject({ kind: 'invalid_request', code: 'unsupported_graph', message: expect.stringMatching(/onnxruntime's GroupQueryAttention was asked for/) });
    const gpu = { ...CPU_DEVICE, kind: 'cuda' as const, requested: 'cuda' };
    let error: unknown;
    try {
      fleetchatAttentionAddon(join(dir, 'onnx', 'model.onnx'), gpu, undefined);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toMatchObject({ code: 'device_unavailable', message: expect.stringMatching(/does not run on cuda; use --device cpu/) });
  });
});
