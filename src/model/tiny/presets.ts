/** Shapes of generated models. head_dim stays a multiple of 8 (onnxruntime's fused attention kernels need it). */

export type TinyPresetName = 'tiny' | 'small' | '100m';

export interface TinyShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  maxPositions: number;
  ropeTheta: number;
  tieEmbeddings: boolean;
  vocabFrom: string;
}

export const TINY_PRESETS: Record<TinyPresetName, TinyShape> = {
  /** Fast tests: ~3.3M parameters, almost all of them the GPT-2 embedding. */
  tiny: { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 176, maxPositions: 2048, ropeTheta: 10000, tieEmbeddings: true, vocabFrom: 'gpt2' },
  /** The embedded default model of `fleetchat up`: ~16M parameters, hundreds of tokens/s on 2 cores. */
  small: { layers: 4, hidden: 256, heads: 8, kvHeads: 4, intermediate: 704, maxPositions: 2048, ropeTheta: 10000, tieEmbeddings: true, vocabFrom: 'gpt2' },
  /** Benchmarks: GPT-2-small shape with GQA and SwiGLU, ~114M parameters (456 MB of float32). */
  '100m': { layers: 12, hidden: 768, heads: 12, kvHeads: 4, intermediate: 2048, maxPositions: 2048, ropeTheta: 10000, tieEmbeddings: true, vocabFrom: 'gpt2' },
};

export const TINY_PRESET_NAMES = Object.keys(TINY_PRESETS) as TinyPresetName[];
