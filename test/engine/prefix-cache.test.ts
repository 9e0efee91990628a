/**
 * Prefix reuse: a request that extends a finished one (the next turn of a chat) prefills only its new suffix, with
 * greedy output identical to a worker without the cache — on a standard graph (cached keys and values fed as past)
 * and on a fused one (cached positions copied into the sequence's slot of the in-place KV pool).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { generatedModel, tinyModel } from '../support/models';

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

type Graph = 'standard' | 'fused';
const modelDir = (graph: Graph): Promise<string> => (graph === 'fused' ? generatedModel('tiny-fused', { preset: 'tiny', graph: 'fused' }) : tinyModel());

describe('prefix reuse across turns', () => {
  // Fused graphs run through the addon's runBound when it is built (the path users get).
  beforeAll(() => execFileSync(join(__dirname, '../../scripts/build-ort-device'), { stdio: 'pipe' }), 120_000);
  const open = async (prefixCacheBytes: number, graph: Graph = 'standard'): Promise<GenerationRuntime> =>
    loadGenerationRuntime({ dir: await modelDir(graph), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 4, maxQueue: 16, maxPrefillTokens: 4096, prefixCacheBytes, logger: silentLogger() });

  it.each(['standard', 'fused'] as const)('a five-turn chat on a %s graph gives the same greedy tokens with and without the cache, reusing each earlier turn', async (graph) => {
    const cached = await open(64 << 20, graph);
    const plain = await open(0, graph);
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
