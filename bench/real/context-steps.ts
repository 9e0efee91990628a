/**
 * Decode step time against context length for bench:real: one stream, greedy, a prompt of exactly N tokens, then
 * STEPS new tokens; the step time is (time from the first token to the last) / (tokens - 1), median over runs.
 * A graph that copies its whole KV cache every step slows down as N grows; one that writes the cache in place only
 * pays attention's own cost.
 */
import type { GenerationRuntime } from '../../src/worker/runtime';
import { greedyRun } from './greedy-run';

/** New tokens per timed run unless the caller says otherwise. */
const STEPS = 32;

/** `length` token ids cut from the benchmark prompts repeated (valid ids; the text does not matter for timing). */
export function promptOfLength(prompts: number[][], length: number): number[] {
  const all = prompts.flat();
  const out: number[] = [];
  while (out.length < length) out.push(...all);
  return out.slice(0, length);
}

async function stepMs(rt: GenerationRuntime, ids: number[], steps: number): Promise<number> {
  const run = await greedyRun(rt, ids, steps);
  return (run.totalMs - run.firstMs) / (run.tokens - 1);
}

/**
 * Median decode step (ms) at each context length, runs alternating between the lengths (a length + `steps` must fit
 * the model); `warmUp` first runs the shortest length once, untimed.
 */
export async function stepTimes(rt: GenerationRuntime, prompts: number[][], lengths: readonly number[], runs: number, options: { steps?: number; warmUp?: boolean } = {}): Promise<number[]> {
  const steps = options.steps ?? STEPS;
  if (options.warmUp) await stepMs(rt, promptOfLength(prompts, lengths[0]), steps);
  const times: number[][] = lengths.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < lengths.length; i++) times[i].push(await stepMs(rt, promptOfLength(prompts, lengths[i]), steps));
  }
  return times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}
