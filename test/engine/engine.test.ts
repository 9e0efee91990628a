import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { tinyModel, tinyModelUntrimmed } from '../support/models';
import { runRequest } from '../support/engine-run';

const run = runRequest;

describe('engine on a generated model', () => {
  let rt: GenerationRuntime;
  beforeAll(async () => {
    rt = await loadGenerationRuntime({ dir: await tinyModel(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 8, maxQueue: 64, maxPrefillTokens: 4096, logger: silentLogger() });
  }, 120_000);
  afterAll(async () => rt?.release());

  it('generates max_tokens tokens greedily and reports usage', async () => {
    const out = await run(rt, 'Hello there, how are', { temperature: 0, maxTokens: 12, ignoreEos: true });
    expect(out.ids).toHaveLength(12);
    expect(out.finish).toBe(FinishReason.FINISH_REASON_LENGTH);
    const last = out.chunks.at(-1)!;
    expect(last.usage?.completionTokens).toBe(12);
    expect(last.usage?.promptTokens).toBe(rt.prompts.fromText('Hello there, how are').ids.length);
    expect(new Set(out.ids).size).toBeGreaterThan(1);
  });

  it('batched greedy output equals each request run alone', async () => {
    const prompts = ['The quick brown fox', 'One two three four five six seven', 'A', 'Tell me about the weather in Paris today please'];
    const alone: string[] = [];
    for (const p of prompts) alone.push((await run(rt, p, { temperature: 0, maxTokens: 16, ignoreEos: true })).ids.join(','));
    const together = await Promise.all([...prompts, ...prompts].map((p) => run(rt, p, { temperature: 0, maxTokens: 16, ignoreEos: true })));
    expect(together.map((o) => o.ids.join(','))).toEqual([...alone, ...alone]);
  });

  it('is reproducible with a seed, alone or batched', async () => {
    const a = await run(rt, 'Seeded', { temperature: 1, seed: 1234, maxTokens: 20, ignoreEos: true });
    const [b, c] = await Promise.all([run(rt, 'Seeded', { temperature: 1, seed: 1234, maxTokens: 20, ignoreEos: true }), run(rt, 'Other', { temperature: 1, seed: 9, maxTokens: 20, ignoreEos: true })]);
    expect(b.ids).toEqual(a.ids);
    expect(c.ids).not.toEqual(a.ids);
  });

  it('stops at a stop token id without emitting it', async () => {
    const base = await run(rt, 'Count', { temperature: 0, maxTokens: 10, ignoreEos: true });
    const stopAt = base.ids[3];
    const out = await run(rt, 'Count', { temperature: 0, maxTokens: 10, ignoreEos: true, stopTokenIds: [stopAt] });
    const first = base.ids.indexOf(stopAt);
    expect(out.finish).toBe(FinishReason.FINISH_REASON_STOP);
    expect(out.ids).toEqual(base.ids.slice(0, first + 1));
    expect(out.chunks.at(-1)!.matchedStopTokenId).toBe(stopAt);
  });

  it('stops at a stop string and never streams any part of it', async () => {
    const base = await run(rt, 'Story:', { temperature: 0, maxTokens: 24, ignoreEos: true });
    const stop = base.text.slice(Math.floor(base.text.length / 2), Math.floor(base.text.length / 2) + 3);
    const out = await run(rt, 'Story:', { temperature: 0, maxTokens: 24, ignoreEos: true, stop: [stop] });
    expect(out.finish).toBe(FinishReason.FINISH_REASON_STOP);
    expect(out.text).toBe(base.text.slice(0, base.text.indexOf(stop)));
    expect(out.chunks.at(-1)!.matchedStop).toBe(stop);
  });

  it('returns logprobs that match the top alternatives', async () => {
    const out = await run(rt, 'Logprobs', { temperature: 0, maxTokens: 4, ignoreEos: true, topLogprobs: 3 });
    for (const c of out.chunks) {
      for (const lp of c.logprobs) {
        expect(lp.top).toHaveLength(3);
        expect(lp.top[0].tokenId).toBe(lp.tokenId); // greedy picks the most likely token
        expect(lp.logprob).toBeCloseTo(lp.top[0].logprob, 5);
        expect(lp.logprob).toBeLessThanOrEqual(0);
      }
    }
  });

  it('prefills a long prompt in chunks with the same result (tokens and prompt logprobs)', async () => {
    const chunked = await loadGenerationRuntime({ dir: await tinyModel(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 4, maxQueue: 8, maxPrefillTokens: 16, logger: silentLogger() });
    try {
      const prompt = 'A long prompt that certainly spans more than sixteen tokens of the GPT-2 vocabulary, so it is cut into chunks of sixteen.';
      const layer = { temperature: 0, maxTokens: 12, ignoreEos: true, echo: true, topLogprobs: 2 };
      const [a, b] = [await run(rt, prompt, layer), await run(chunked, prompt, layer)];
      expect(rt.prompts.fromText(prompt).ids.length).toBeGreaterThan(16 + 8); // at least two chunks
      expect(b.ids).toEqual(a.ids);
      const pa = a.chunks[0].promptLogprobs!;
      const pb = b.chunks[0].promptLogprobs!;
      expect(pb).toHaveLength(pa.length);
      pa.forEach((x, i) => {
        if (x === null) expect(pb[i]).toBeNull();
        else expect(pb[i]!.logprob).toBeCloseTo(x.logprob, 4);
      });
    } finally {
      await chunked.release();
    }
  });

  it('a graph without num_logits_to_keep (all prompt logits computed) gives the same tokens and logprobs', async () => {
    const untrimmed = await loadGenerationRuntime({ dir: await tinyModelUntrimmed(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 8, maxQueue: 64, maxPrefillTokens: 4096, logger: silentLogger() });
    try {
      expect(rt.engine.trimsLogits).toBe(true);
      expect(untrimmed.engine.trimsLogits).toBe(false);
      const prompts = ['The quick brown fox', 'One two three four five six seven', 'Tell me about the weather in Paris today please'];
      const layer = { temperature: 0, maxTokens: 10, ignoreEos: true, topLogprobs: 3 };
      const [a, b] = await Promise.all([Promise.all(prompts.map((p) => run(rt, p, layer))), Promise.all(prompts.map((p) => run(untrimmed, p, layer)))]);
      expect(b.map((o) => o.ids)).toEqual(a.map((o) => o.ids));
      a.forEach((o, i) => o.chunks.forEach((c, j) => c.logprobs.forEach((lp, k) => expect(b[i].chunks[j].logprobs[k].logprob).toBeCloseTo(lp.logprob, 4))));
    } finally {
      await untrimmed.release();
    }
  });

  it('requests submitted in one event-loop turn to an idle engine share the first prefill', async () => {
    const steps: number[] = [];
    const observed = await loadGenerationRuntime({ dir: await tinyModel(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 8, maxQueue: 64, maxPrefillTokens: 4096, logger: silentLogger(), observer: { onStep: (batch) => steps.push(batch) } });
    try {
      const prompts = ['The quick brown fox', 'One two three', 'A', 'Tell me about Paris', 'Hello'];
      await Promise.all(prompts.map((p) => run(observed, p, { temperature: 0, maxTokens: 3, ignoreEos: true })));
      expect(steps[0]).toBe(prompts.length); // one prefill for all five, not a lone first one
      expect(steps).toHaveLength(3); // prefill, then two decode steps for everyone
    } finally {
      await observed.release();
    }
  });

  it('admits only what the KV-cache budget holds: the rest waits, and a request that can never fit is refused', async () => {
    const dir = await tinyModel();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { num_hidden_layers: number; num_key_value_heads: number; hidden_size: number; num_attention_heads: number; head_dim?: number };
    const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
    const perPosition = config.num_hidden_layers * 2 * config.num_key_value_heads * headDim * 4; // fp32 keys + values
    const steps: number[] = [];
    // Room for 40 positions: one request of prompt + 20 new tokens fits, two at once do not.
    const budgeted = await loadGenerationRuntime({
      dir, source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 8, maxQueue: 64, maxPrefillTokens: 4096,
      maxKvBytes: 40 * perPosition, logger: silentLogger(), observer: { onStep: (batch) => steps.push(batch) },
    });
    try {
      const outs = await Promise.all(['The quick brown fox', 'One two three'].map((p) => run(budgeted, p, { temperature: 0, maxTokens: 20, ignoreEos: true })));
      expect(outs.map((o) => o.ids.length)).toEqual([20, 20]);
      expect(Math.max(...steps)).toBe(1); // never both in one forward pass
      const alone = await run(rt, 'One two three', { temperature: 0, maxTokens: 20, ignoreEos: true });
      expect(outs[1].ids).toEqual(alone.ids); // waiting changed nothing
      // 41+ positions can never fit: refused at submit, naming the budget.
      const probe = budgeted.prompts.fromText('The quick brown fox');
      expect(() => budgeted.engine.submit({ promptIds: probe.ids, params: resolveSamplingParams([{ maxTokens: 40 }], rt.info.vocabSize), onChunk: () => undefined }))
        .toThrow(/KV cache .*budget is \d+ KiB; lower max_tokens/);
    } finally {
      await budgeted.release();
    }
  });

  it('rejects a prompt that does not fit the context, naming both numbers', () => {
    const ids = new Array(3000).fill(100);
    expect(() => rt.engine.submit({ promptIds: ids, params: resolveSamplingParams([], rt.info.vocabSize), onChunk: () => undefined })).toThrow(/3000 tokens.*context length is 2048/);
    expect(() => rt.engine.submit({ promptIds: [1, 2], params: resolveSamplingParams([{ maxTokens: 2047 }], rt.info.vocabSize), onChunk: () => undefined })).toThrow(/\+ max_tokens \(2047\) = 2049 exceeds the context length 2048/);
  });
});
