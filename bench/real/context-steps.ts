/**
 * Decode step time against context length for bench:real: one stream, greedy, a prompt of exactly N tokens, then
 * STEPS new tokens; the step time is (time from the first token to the last) / (tokens - 1), median over runs.
 * A graph that copies its whole KV cache every step slows down as N grows; one that writes the cache in place only
 * pays attention's own cost.
 */
import type { GenerationRuntime } from '../../src/worker/runtime';
import { greedyRun } from './greedy-run';

const STEPS = 32;

/** `length` token ids cut from the benchmark prompts repeated (valid ids; the text does not matter for timing). */
export function promptOfLength(prompts: number[][], length: number): number[] {
  const all = prompts.flat();
  const out: number[] = [];
  while (out.length < length) out.push(...all);
  return out.slice(0, length);
}

async function stepMs(rt: GenerationRuntime, ids: number[]): Promise<number> {
  const run = await greedyRun(rt, ids, STEPS);
  return (run.totalMs - run.firstMs) / (run.tokens - 1);
}

/** Median decode step (ms) at each context length, runs alternating between the lengths. */
export async function stepTimes(rt: GenerationRuntime, prompts: number[][], lengths: number[], runs: number): Promise<number[]> {
  const times: number[][] = lengths.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < lengths.length; i++) times[i].push(await stepMs(rt, promptOfLength(prompts, lengths[i])));
  }
  return times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}
