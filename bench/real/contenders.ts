/**
 * bench:real's contenders behind one interface, so that they can be open at once and take turns (run.ts interleaves
 * them prompt by prompt: load changes on a shared machine then hit every contender alike).
 *   fleetchat: the worker's engine (loadGenerationRuntime + engine.submit, continuous batching) on one graph file;
 *   llama.cpp: node-llama-cpp 3.21.1 in a child process (llamacpp-client.ts), one context sequence per prompt.
 */
import { silentLogger } from '../../src/common/log';
import type { AttentionKernel } from '../../src/worker/engine/native-session';
import type { WeightVariant } from '../../src/worker/loader/files';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import type { GenerationRuntime } from '../../src/worker/runtime';
import { promptOfLength, stepTimes } from './context-steps';
import { greedyRun, type Run } from './greedy-run';
import { LlamaCpp } from './llamacpp-client';

export interface Engine {
  /** One greedy generation of `tokens` tokens (end of sequence ignored). */
  single(ids: number[], tokens: number): Promise<Run>;
  /** Every prompt at once: aggregate generated tokens per second of wall time (prefill included). */
  batch(prompts: number[][], tokens: number): Promise<number>;
  /** Median decode step (ms) after a prompt of each length. */
  contextSteps(prompts: number[][], lengths: number[], runs: number): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * `fusedAttention`: a fused graph's GroupQueryAttention kernel (default: the worker's choice, the addon's at one
 * thread); `greedyRuns`: false for one thread round trip per decode pass (the engine's default is on, fused-decode.ts).
 */
export async function openFleetchat(dir: string, weights: WeightVariant, threads: number, fusedAttention?: AttentionKernel, greedyRuns?: boolean): Promise<Engine> {
  const rt: GenerationRuntime = await loadGenerationRuntime({ dir, source: dir, modelNames: ['bench'], threads, weights, maxConcurrency: 8, maxQueue: 16, maxPrefillTokens: 1 << 20, logger: silentLogger(), fusedAttention, greedyRuns });
  return {
    single: (ids, tokens) => greedyRun(rt, ids, tokens),
    batch: async (prompts, tokens) => {
      const t0 = performance.now();
      const all = await Promise.all(prompts.map((p) => greedyRun(rt, p, tokens)));
      return all.reduce((n, x) => n + x.tokens, 0) / ((performance.now() - t0) / 1000);
    },
    contextSteps: (prompts, lengths, runs) => stepTimes(rt, prompts, lengths, runs),
    close: () => rt.release(),
  };
}

/** llama.cpp with one context sequence per batch prompt; the context steps run on a single-sequence context of their own. */
export async function openLlamaCpp(gguf: string, threads: number, sequences: number): Promise<Engine> {
  const llama = await LlamaCpp.open(gguf, { threads, sequences, contextSize: 4096 });
  return {
    single: async (ids, tokens) => (await llama.bench([ids], tokens)).results[0],
    batch: async (prompts, tokens) => {
      const all = await llama.bench(prompts, tokens);
      return all.results.reduce((n, x) => n + x.tokens, 0) / (all.wallMs / 1000);
    },
    contextSteps: async (prompts, lengths, runs) => {
      const steps = 32;
      const long = await LlamaCpp.open(gguf, { threads, sequences: 1, contextSize: Math.max(...lengths) + steps + 64 });
      try {
        const times: number[][] = lengths.map(() => []);
        for (let r = 0; r < runs; r++) {
          for (const [i, n] of lengths.entries()) {
            const run = (await long.bench([promptOfLength(prompts, n)], steps)).results[0];
            times[i].push((run.totalMs - run.firstMs) / (run.tokens - 1));
          }
        }
        return times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]);
      } finally {
        await long.close();
      }
    },
    close: () => llama.close(),
  };
}
