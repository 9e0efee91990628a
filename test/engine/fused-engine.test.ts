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
import { generatedModel, tinyModel } from '../support/models';
import { runRequest, type Collected } from '../support/engine-run';

const run = runRequest;

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

  // Greedy rows decode in runs of passes chained in the session thread (fused-decode.ts): a run must end where a step
  // would — at a stop token or string, a cancellation, a request waiting for admission — with the same tokens.
  it('greedy runs end at stop tokens, stop strings, cancellations and new requests with the standard graph\'s tokens', async () => {
    const layer = { temperature: 0, maxTokens: 24, ignoreEos: true };
    const alone = await run(standard, PROMPTS[1], layer);
    const text = alone.chunks.map((c) => c.text).join('');
    const stopToken = { ...layer, stopTokenIds: [alone.ids[9]] };
    const stopString = { ...layer, stop: [text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3)] };
    for (const l of [stopToken, stopString]) {
      const [a, b] = [await run(standard, PROMPTS[1], l), await run(fused, PROMPTS[1], l)];
      expect(b.ids).toEqual(a.ids);
      expect(b.chunks.map((c) => c.text).join('')).toBe(a.chunks.map((c) => c.text).join(''));
      expect(b.finish).toBe(FinishReason.FINISH_REASON_STOP);
      expect(b.ids.length).toBeLessThan(24);
    }
    // Cancelled after 3 tokens: it ends there, and the slot serves the next request correctly.
    const seen: number[] = [];
    const cancelled = await run(fused, PROMPTS[1], layer, (c, handle) => {
      if (c.tokenIds.length > 0 && c.finishReason === FinishReason.FINISH_REASON_UNSPECIFIED) seen.push(c.tokenIds[0]);
      if (seen.length === 3) handle.cancel();
    });
    expect(cancelled.finish).toBe(FinishReason.FINISH_REASON_CANCELLED);
    expect(cancelled.ids.length).toBeLessThan(24);
    expect(cancelled.ids).toEqual(alone.ids.slice(0, cancelled.ids.length));
    expect((await run(fused, PROMPTS[1], layer)).ids).toEqual(alone.ids);
    // A request that arrives during another's run joins at the next step; both keep their tokens.
    const other = await run(standard, PROMPTS[3], layer);
    const order: string[] = [];
    let joined: Promise<Collected> | undefined;
    const first = await run(fused, PROMPTS[1], layer, (c) => {
      order.push(c.finishReason === FinishReason.FINISH_REASON_UNSPECIFIED ? 'first' : 'first ended');
      joined ??= run(fused, PROMPTS[3], layer, () => order.push('joined'));
    });
    expect(first.ids).toEqual(alone.ids);
    expect((await joined)?.ids).toEqual(other.ids);
    // It did not wait for the first request's run to end: its tokens came while the first one's still did.
    expect(order.indexOf('joined')).toBeLessThan(order.indexOf('first ended'));
    expect(order.lastIndexOf('first')).toBeGreaterThan(order.indexOf('joined'));
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
