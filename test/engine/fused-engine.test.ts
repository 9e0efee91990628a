/**
 * The engine on a fused graph (GroupQueryAttention over an in-place KV pool, one slot per running sequence): the same
 * greedy tokens as the standard graph of the same weights, alone and batched with rows of different lengths that join
 * and leave, slots reused across many requests, prompt logprobs through chunked prefill, and the slot capacity
 * enforced at submit.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams, type SamplingLayer } from '../../src/worker/sampling/params';
import type { EngineChunk } from '../../src/worker/engine/sequence';
import { generatedModel, tinyModel } from '../support/models';

interface Collected {
  ids: number[];
  chunks: EngineChunk[];
  finish: FinishReason;
}

function run(rt: GenerationRuntime, prompt: string, layer: SamplingLayer): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const p = rt.prompts.fromText(prompt);
    const out: Collected = { ids: [], chunks: [], finish: FinishReason.FINISH_REASON_UNSPECIFIED };
    try {
      rt.engine.submit({
        promptIds: p.ids,
        promptText: p.text,
        params: resolveSamplingParams([...rt.samplingLayers, layer], rt.info.vocabSize),
        onChunk: (c) => {
          out.chunks.push(c);
          out.ids.push(...c.tokenIds);
          if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) {
            out.finish = c.finishReason;
            resolve(out);
          }
        },
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

const PROMPTS = ['The quick brown fox', 'One two three four five six seven', 'A', 'Tell me about the weather in Paris today please'];
const load = async (dir: string, extra: { maxConcurrency?: number; maxPrefillTokens?: number; maxKvBytes?: number } = {}): Promise<GenerationRuntime> =>
  loadGenerationRuntime({ dir, source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: extra.maxConcurrency ?? 4, maxQueue: 64, maxPrefillTokens: extra.maxPrefillTokens ?? 4096, maxKvBytes: extra.maxKvBytes, logger: silentLogger() });

describe('engine on a fused graph', () => {
  let standard: GenerationRuntime;
  let fused: GenerationRuntime;
  beforeAll(async () => {
    // The session thread runs fused graphs through the addon's runBound when it is built (the path users get).
    execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' });
    standard = await load(await tinyModel());
    fused = await load(await generatedModel('tiny-fused', { preset: 'tiny', graph: 'fused' }));
  }, 120_000);
  afterAll(async () => Promise.all([standard?.release(), fused?.release()]));

  it('gives the standard graph\'s greedy tokens, alone and batched (more requests than slots: slots are reused)', async () => {
    const layer = { temperature: 0, maxTokens: 16, ignoreEos: true };
    const alone: number[][] = [];
    for (const p of PROMPTS) alone.push((await run(standard, p, layer)).ids);
    for (const p of PROMPTS) expect((await run(fused, p, layer)).ids).toEqual(alone[PROMPTS.indexOf(p)]);
    // 12 requests over 4 slots, with different max_tokens so rows leave (and others move into their slots) mid-batch.
    const mixed = [...PROMPTS, ...PROMPTS, ...PROMPTS].map((p, i) => run(fused, p, { ...layer, maxTokens: 4 + (i % 5) * 3 }));
    const results = await Promise.all(mixed);
    results.forEach((r, i) => expect(r.ids).toEqual(alone[i % PROMPTS.length].slice(0, 4 + (i % 5) * 3)));
  });

  it('chunked prefill gives the same tokens and prompt logprobs', async () => {
    const chunked = await load(await generatedModel('tiny-fused', { preset: 'tiny', graph: 'fused' }), { maxPrefillTokens: 8 });
    try {
      const prompt = 'A long prompt that certainly spans more than eight tokens of the GPT-2 vocabulary, so it is cut into chunks.';
      const layer = { temperature: 0, maxTokens: 8, ignoreEos: true, echo: true, topLogprobs: 2 };
      const [a, b] = [await run(standard, prompt, layer), await run(chunked, prompt, layer)];
      expect(b.ids).toEqual(a.ids);
      const pa = a.chunks[0].promptLogprobs!;
      const pb = b.chunks[0].promptLogprobs!;
      expect(pb).toHaveLength(pa.length);
      pa.forEach((x, i) => (x === null ? expect(pb[i]).toBeNull() : expect(pb[i]!.logprob).toBeCloseTo(x.logprob, 4)));
    } finally {
      await chunked.release();
    }
  });

  it('sizes the slots from the KV budget and refuses a request that cannot fit a slot', async () => {
    // tiny: 2 layers × 2 kv heads × 16 dims × 4 bytes × (key + value) = 512 bytes per position; 4 slots of 64 positions.
    const small = await load(await generatedModel('tiny-fused', { preset: 'tiny', graph: 'fused' }), { maxKvBytes: 4 * 64 * 512 });
    try {
      await expect(run(small, 'Hello', { temperature: 0, maxTokens: 100 })).rejects.toThrow(/context length 64/);
      const out = await run(small, 'Hello', { temperature: 0, ignoreEos: true });
      expect(out.finish).toBe(FinishReason.FINISH_REASON_LENGTH);
      expect(out.ids.length + small.prompts.fromText('Hello').ids.length).toBe(64);
    } finally {
      await small.release();
    }
  });
});
