/**
 * Prefix reuse: a request that extends a finished one (the next turn of a chat) prefills only its new suffix, with
 * greedy output identical to a worker without the cache.
 */
import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { tinyModel } from '../support/models';

type Message = { role: string; content: string; name: string; toolCallId: string; toolCallsJson: string };
const msg = (role: string, content: string): Message => ({ role, content, name: '', toolCallId: '', toolCallsJson: '' });

function generate(rt: GenerationRuntime, messages: Message[], onPrefill?: (tokens: number) => void): Promise<{ ids: number[]; text: string }> {
  const prompt = rt.prompts.fromChat({ messages, addGenerationPrompt: true, toolsJson: '', convTemplate: '' });
  onPrefill?.(prompt.ids.length);
  return new Promise((resolve) => {
    const out = { ids: [] as number[], text: '' };
    rt.engine.submit({
      promptIds: prompt.ids,
      params: resolveSamplingParams([...rt.samplingLayers, { temperature: 0, maxTokens: 10, ignoreEos: true }], rt.info.vocabSize),
      onChunk: (c) => {
        out.ids.push(...c.tokenIds);
        out.text += c.text;
        if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve(out);
      },
    });
  });
}

async function conversation(rt: GenerationRuntime, turns: number): Promise<number[][]> {
  const messages: Message[] = [msg('system', 'You are a helpful assistant who answers in detail and never hurries.')];
  const answers: number[][] = [];
  for (let t = 0; t < turns; t++) {
    messages.push(msg('user', `Question ${t + 1}: tell me something about the number ${t * 7 + 3} and why it matters.`));
    const out = await generate(rt, messages);
    answers.push(out.ids);
    messages.push(msg('assistant', out.text));
  }
  return answers;
}

describe('prefix reuse across turns', () => {
  const open = async (prefixCacheBytes: number): Promise<GenerationRuntime> =>
    loadGenerationRuntime({ dir: await tinyModel(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 4, maxQueue: 16, maxPrefillTokens: 4096, prefixCacheBytes, logger: silentLogger() });

  it('a five-turn chat gives the same greedy tokens with and without the cache, reusing each earlier turn', async () => {
    const cached = await open(64 << 20);
    const plain = await open(0);
    try {
      const withCache = await conversation(cached, 5);
      const without = await conversation(plain, 5);
      expect(withCache).toEqual(without);
      const stats = cached.engine.prefixCacheStats();
      expect(stats?.hits).toBeGreaterThanOrEqual(4); // turns 2-5 each start from the previous turn's cache
      expect(stats?.reusedTokens).toBeGreaterThan(4 * 16);
      expect(plain.engine.prefixCacheStats()).toBeUndefined();
    } finally {
      await cached.release();
      await plain.release();
    }
  }, 120_000);

  it('keeps within its memory budget, evicting the least recently used', async () => {
    const small = await open(200_000); // a few hundred positions of the tiny model
    try {
      await conversation(small, 4);
      const stats = small.engine.prefixCacheStats();
      expect(stats?.bytes).toBeLessThanOrEqual(200_000);
      expect(stats?.entries).toBeGreaterThan(0);
    } finally {
      await small.release();
    }
  }, 120_000);
});
