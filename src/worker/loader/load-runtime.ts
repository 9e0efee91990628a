/** Loads the right runtime for a model directory: a decoder for generation, an encoder for embeddings. */
import { readModelConfig } from './config';
import { loadEmbeddingRuntime } from './load-embedding';
import { loadGenerationRuntime, type GenerationLoadOptions } from './load';
import type { ModelRuntime } from '../runtime';

export async function loadRuntime(options: GenerationLoadOptions): Promise<ModelRuntime> {
  const config = readModelConfig(options.dir);
  if (config.family === 'encoder') return loadEmbeddingRuntime(options);
  return loadGenerationRuntime(options);
}
