/**
 * Deterministic random LLaMA weights from a seed, as a WeightSource. Scales are chosen so that a random model still
 * behaves like a language model numerically: logits spread by a few units (not uniform, not one-hot), and each
 * layer adds to the residual stream about as much as the embedding, so greedy decoding wanders through the
 * vocabulary instead of repeating the input token forever.
 */
import { ValidLlamaConfig } from '../llama/llama-config';
import { llamaWeightShapes } from '../llama/llama-weights';
import { RandomWeights } from './random-weights';

export interface InitScales {
  /** Std of embedding and lm_head rows, times 1/sqrt(hidden). */
  embed: number;
  /** Std of projection weights, times 1/sqrt(fan_in). */
  linear: number;
  /** Norm weights are 1 ± this (uniform), so a misplaced norm weight shows in tests. */
  normSpread: number;
}

export const DEFAULT_INIT_SCALES: InitScales = { embed: 3, linear: 2, normSpread: 0.2 };

function stdFor(name: string, shape: readonly number[], c: ValidLlamaConfig, s: InitScales): { mean: number; std: number } {
  if (shape.length === 1 && name.endsWith('norm.weight')) return { mean: 1, std: s.normSpread / Math.sqrt(3) };
  if (shape.length === 1) return { mean: 0, std: 0.5 };
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return { mean: 0, std: s.embed / Math.sqrt(c.hiddenSize) };
  return { mean: 0, std: s.linear / Math.sqrt(shape[1]) };
}

/** Random weights for every tensor of a LLaMA config (Hugging Face names and shapes). */
export class RandomLlamaWeights extends RandomWeights {
  constructor(config: ValidLlamaConfig, seed: number, scales: InitScales = DEFAULT_INIT_SCALES) {
    super(new Map(llamaWeightShapes(config).map((t) => [t.name, { shape: t.shape, ...stdFor(t.name, t.shape, config, scales) }])), seed);
  }
}
