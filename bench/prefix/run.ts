/**
 * `npm run bench:prefix`: prefix reuse on a five-turn chat. The same conversation (greedy, 48 new tokens a turn) runs
 * on a worker runtime with the prefix cache and on one without; we report each turn's time to first token and check
 * that every turn's tokens are identical. Then the same kind of chat through the gateway with two workers
 * (through-gateway.ts): turn-5 TTFT with prefix-aware routing against plain load routing, in the same run.
 * Model: SmolLM2-135M-Instruct when its GGUF is cached (`npm run fetch:smollm2`), else the generated `small` model.
 * Last line: JSON with ttft_turn5_ms, ttft_turn5_nocache_ms, ratio, identical, and the gateway figures
 * gateway_ttft_turn5_routed_ms, gateway_ttft_turn5_plain_ms, gateway_ratio, gateway_hit_rate_routed / _plain.
 *
 *   BENCH_GRAPH=fused (SmolLM2 imported with --graph fused: GroupQueryAttention over the in-place KV pool, whose
 *   slots the prefix cache fills), BENCH_THREADS (default: all cores; the gateway part gives each worker one thread),
 *   BENCH_GATEWAY_CONVERSATIONS (default 3 per routing mode; 0 = skip the gateway part)
 */
import { homedir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log';
import { FinishReason, type ChatMessage } from '../../src/common/gen/worker';
import { findCachedSmolLM2 } from '../../src/model/gguf/smollm2';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { benchModel } from '../support/models';
import { fetchSmolLM2Gguf } from '../support/smollm2';
import { importedModel } from '../real/imported-model';
import { throughGateway, type GatewayFigures } from './through-gateway';

const TURNS = 5;
const NEW_TOKENS = 48;
const THREADS = Number(process.env.BENCH_THREADS ?? availableParallelism());
const GATEWAY_CONVERSATIONS = Number(process.env.BENCH_GATEWAY_CONVERSATIONS ?? 3);
const GRAPH = process.env.BENCH_GRAPH === 'fused' ? 'fused' : 'standard';
const QUESTIONS = [
  'What is continuous batching in an inference server, and why does it raise throughput?',
  'How does a KV cache work in a transformer decoder? Explain the memory it needs.',
  'Compare greedy decoding with nucleus sampling. When would you use each?',
  'Why do chat templates matter when serving instruction-tuned models?',
  'Summarise our conversation so far in three sentences.',
];

const msg = (role: string, content: string): ChatMessage => ({ role, content, name: '', toolCallId: '', toolCallsJson: '' });

interface TurnResult {
  ttftMs: number;
  ids: number[];
  text: string;
  promptTokens: number;
}

async function turn(rt: GenerationRuntime, messages: ChatMessage[]): Promise<TurnResult> {
  const prompt = rt.prompts.fromChat({ messages, addGenerationPrompt: true, toolsJson: '', convTemplate: '' });
  const started = performance.now();
  return new Promise((resolve) => {
    let ttftMs = -1;
    const ids: number[] = [];
    let text = '';
    rt.engine.submit({
      promptIds: prompt.ids,
      params: resolveSamplingParams([...rt.samplingLayers, { temperature: 0, maxTokens: NEW_TOKENS, ignoreEos: true }], rt.info.vocabSize),
      onChunk: (c) => {
        if (ttftMs < 0 && c.tokenIds.length > 0) ttftMs = performance.now() - started;
        ids.push(...c.tokenIds);
        text += c.text;
        if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve({ ttftMs, ids, text, promptTokens: prompt.ids.length });
      },
    });
  });
}

async function chat(rt: GenerationRuntime): Promise<TurnResult[]> {
  const messages = [msg('system', 'You are a knowledgeable assistant for people who run language models in production.')];
  const out: TurnResult[] = [];
  for (let t = 0; t < TURNS; t++) {
    messages.push(msg('user', QUESTIONS[t]));
    const r = await turn(rt, messages);
    out.push(r);
    messages.push(msg('assistant', r.text));
  }
  return out;
}

async function main(): Promise<void> {
  const gguf = GRAPH === 'fused' ? fetchSmolLM2Gguf() : undefined;
  const smol = gguf ? await importedModel(gguf, 'fused') : await findCachedSmolLM2(join(homedir(), '.cache', 'fleetchat'));
  const dir = smol ?? (await benchModel('small', { preset: 'small' }));
  const open = (prefixCacheBytes: number): Promise<GenerationRuntime> =>
    loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads: THREADS, weights: 'auto', maxConcurrency: 4, maxQueue: 8, maxPrefillTokens: 8192, prefixCacheBytes, logger: silentLogger() });
  console.log(`bench:prefix — ${smol ? `SmolLM2-135M-Instruct (imported GGUF, ${gguf ? 'fused graph, int4' : 'standard graph'})` : 'generated small model'}, ${TURNS} turns, ${NEW_TOKENS} new tokens a turn, ${THREADS} threads`);
  const cached = await open(512 << 20);
  const plain = await open(0);
  // Warm both sessions (first runs allocate), then measure. The warm-up also fills the cache with this
  // conversation, so the measured run with the cache would hit even on turn 1: a fresh runtime measures instead.
  await chat(plain);
  const without = await chat(plain);
  await cached.release();
  const fresh = await open(512 << 20);
  await turn(fresh, [msg('user', 'Warm-up: say hello.')]);
  const withCache = await chat(fresh);
  const stats = fresh.engine.prefixCacheStats();
  await fresh.release();
  await plain.release();
  console.log('| turn | prompt tokens | TTFT with prefix reuse (ms) | TTFT without (ms) | ratio | same tokens |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  withCache.forEach((w, i) => {
    const n = without[i];
    console.log(`| ${i + 1} | ${w.promptTokens} | ${w.ttftMs.toFixed(1)} | ${n.ttftMs.toFixed(1)} | ${(w.ttftMs / n.ttftMs).toFixed(2)} | ${w.ids.join() === n.ids.join() ? 'yes' : 'NO'} |`);
  });
  console.log(`prefix cache: ${stats?.hits} hits, ${stats?.misses} misses, ${stats?.reusedTokens} tokens reused, ${((stats?.bytes ?? 0) / 1e6).toFixed(1)} MB held`);
  let gateway: GatewayFigures | undefined;
  if (GATEWAY_CONVERSATIONS > 0) {
    gateway = await throughGateway(dir, QUESTIONS, { conversations: GATEWAY_CONVERSATIONS, maxTokens: NEW_TOKENS });
    console.log(`through the gateway, two workers (1 thread each), ${gateway.conversations} conversations per routing mode, median:`);
    console.log('| routing | turn-5 TTFT (ms) | turns 2-5 with a cached prefix |');
    console.log('| --- | --- | --- |');
    console.log(`| prefix-aware (default) | ${gateway.routedMs.toFixed(1)} | ${(gateway.routedHitRate * 100).toFixed(0)}% |`);
    console.log(`| load only (--prefix-routing off) | ${gateway.plainMs.toFixed(1)} | ${(gateway.plainHitRate * 100).toFixed(0)}% |`);
  }
  const last = withCache[TURNS - 1];
  const lastPlain = without[TURNS - 1];
  const identical = withCache.every((w, i) => w.ids.join() === without[i].ids.join());
  console.log(JSON.stringify({
    ttft_turn5_ms: Number(last.ttftMs.toFixed(2)),
    ttft_turn5_nocache_ms: Number(lastPlain.ttftMs.toFixed(2)),
    ratio: Number((last.ttftMs / lastPlain.ttftMs).toFixed(3)),
    identical,
    prompt_tokens_turn5: last.promptTokens,
    model: smol ? 'SmolLM2-135M-Instruct' : 'generated-small',
    graph: gguf ? 'fused' : 'standard',
    ...(gateway
      ? {
          gateway_ttft_turn5_routed_ms: Number(gateway.routedMs.toFixed(2)),
          gateway_ttft_turn5_plain_ms: Number(gateway.plainMs.toFixed(2)),
          gateway_ratio: Number((gateway.routedMs / gateway.plainMs).toFixed(3)),
          gateway_hit_rate_routed: Number(gateway.routedHitRate.toFixed(2)),
          gateway_hit_rate_plain: Number(gateway.plainHitRate.toFixed(2)),
        }
      : {}),
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
