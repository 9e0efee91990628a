/**
 * createTinyEncoder: a BERT-style embedding model directory with deterministic random weights and a real tokenizer:
 * config.json (BertModel), tokenizer.json, tokenizer_config.json, special_tokens_map.json, onnx/model.onnx and
 * model.safetensors (BertModel tensor names). Outputs last_hidden_state; pooling is the caller's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeOnnxModel } from '../onnx/model-writer';
import { writeSafetensors } from '../weights/safetensors';
import { specialTokensMap, writeJson } from '../tiny/hf-files';
import { RandomTensorSpec, RandomWeights } from '../tiny/random-weights';
import { loadTokenizerFiles } from '../tiny/tokenizer-files';
import { bertWeightShapes, toHfBertConfig, ValidBertConfig, validateBertConfig } from './bert-config';
import { buildBertEncoder } from './encoder-graph';

export interface TinyEncoderOptions {
  outDir: string;
  layers?: number;
  hidden?: number;
  heads?: number;
  intermediate?: number;
  maxPositions?: number;
  vocabFrom?: string;
  seed?: number;
  /** Include the token_type_ids input (default true, as BERT exports). */
  tokenTypeIds?: boolean;
}

export interface TinyEncoderResult {
  dir: string;
  config: ValidBertConfig;
  elapsedMs: number;
}

function initSpec(name: string, shape: readonly number[]): RandomTensorSpec {
  if (name.endsWith('LayerNorm.weight')) return { shape, mean: 1, std: 0.1 };
  if (shape.length === 1) return { shape, mean: 0, std: 0.1 };
  if (name.startsWith('embeddings.')) return { shape, mean: 0, std: 1 };
  return { shape, mean: 0, std: 1 / Math.sqrt(shape[1]) };
}

export async function createTinyEncoder(options: TinyEncoderOptions): Promise<TinyEncoderResult> {
  const started = Date.now();
  const maxPositions = options.maxPositions ?? 512;
  const tokenizer = loadTokenizerFiles(options.vocabFrom ?? 'gpt2', maxPositions);
  const config = validateBertConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: options.hidden ?? 64,
    numLayers: options.layers ?? 2,
    numHeads: options.heads ?? 4,
    intermediateSize: options.intermediate ?? 4 * (options.hidden ?? 64),
    maxPositionEmbeddings: maxPositions,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  });
  const shapes = bertWeightShapes(config);
  const weights = new RandomWeights(new Map(shapes.map((t) => [t.name, initSpec(t.name, t.shape)])), options.seed ?? 1);
  const dir = options.outDir;
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeJson(dir, 'config.json', toHfBertConfig(config, tokenizer.padTokenId ?? 0));
  writeJson(dir, 'tokenizer_config.json', tokenizer.tokenizerConfig);
  writeJson(dir, 'special_tokens_map.json', specialTokensMap(tokenizer.tokenizerConfig));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizerJson));
  writeOnnxModel(join(dir, 'onnx', 'model.onnx'), buildBertEncoder(config, weights, { tokenTypeIds: options.tokenTypeIds }));
  writeSafetensors(join(dir, 'model.safetensors'), shapes, weights);
  return { dir, config, elapsedMs: Date.now() - started };
}
