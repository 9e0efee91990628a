/**
 * createTinyModel: a complete Hugging Face-layout model directory with a LLaMA-architecture decoder and
 * deterministic random weights: config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, onnx/model.onnx (+ onnx/model.onnx_data for big models) and the same weights as
 * model.safetensors with LlamaForCausalLM tensor names. Same options and seed -> identical bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../common/errors';
import { buildDecoder } from '../llama/build-decoder';
import type { KvCacheFormat } from '../llama/decoder-graph';
import type { GraphKind } from '../llama/fused-decoder-graph';
import { toHfLlamaConfig, ValidLlamaConfig, validateLlamaConfig } from '../llama/llama-config';
import { llamaWeightShapes, parameterCount } from '../llama/llama-weights';
import { ExternalDataMode, writeOnnxModel } from '../onnx/model-writer';
import { onnxFileName, WeightFormat, WEIGHT_FORMATS } from '../quant/nbits-linear';
import { writeSafetensors } from '../weights/safetensors';
import { generationConfig, specialTokensMap, writeJson } from './hf-files';
import { TINY_PRESETS, TinyPresetName, TinyShape } from './presets';
import { RandomLlamaWeights } from './random-llama-weights';
import { loadTokenizerFiles } from './tokenizer-files';

/** Bumped whenever the generator would write different bytes for the same options. */
export const GENERATOR_VERSION = 5;

export interface TinyModelOptions extends Partial<TinyShape> {
  outDir: string;
  preset?: TinyPresetName;
  /** Per-head size; default hidden / heads. */
  headDim?: number;
  seed?: number;
  rmsNormEps?: number;
  /** 'auto' (default) keeps weights inline below protobuf's 2 GB limit. */
  externalData?: ExternalDataMode;
  /** Also write model.safetensors (default true). */
  safetensors?: boolean;
  /** Graphs to write: fp32 -> onnx/model.onnx, int8 -> onnx/model_int8.onnx, int4 -> onnx/model_q4.onnx (default fp32). */
  weightFormats?: readonly WeightFormat[];
  /** Give the graphs the `num_logits_to_keep` input (default true; false: the older optimum interface). */
  logitsToKeepInput?: boolean;
  /** standard (default): opset-17 ops; fused: onnxruntime's contrib ops with a KV cache updated in place. */
  graph?: GraphKind;
  /** A fused graph's KV cache: fp32 (default) or fp16 under float32 / int8 / int4 activations (see DecoderBuildOptions.kvCache). */
  kvCache?: KvCacheFormat;
}

export interface TinyModelResult {
  dir: string;
  config: ValidLlamaConfig;
  seed: number;
  parameterCount: number;
  onnxBytes: number;
  safetensorsBytes: number;
  elapsedMs: number;
}

export const DEFAULT_SEED = 1;

/** Preset values overridden by explicit options. */
export function resolveTinyShape(options: Omit<TinyModelOptions, 'outDir'>): TinyShape & { headDim: number; seed: number; rmsNormEps: number } {
  const preset = options.preset ?? 'tiny';
  const base = TINY_PRESETS[preset];
  if (base === undefined) throw new FleetError('invalid_request', `unknown preset '${String(preset)}' (tiny, small, 100m)`, { param: 'preset' });
  const pick = <K extends keyof TinyShape>(key: K): TinyShape[K] => (options[key] as TinyShape[K] | undefined) ?? base[key];
  const shape: TinyShape = {
    layers: pick('layers'), hidden: pick('hidden'), heads: pick('heads'), kvHeads: pick('kvHeads'), intermediate: pick('intermediate'),
    maxPositions: pick('maxPositions'), ropeTheta: pick('ropeTheta'), tieEmbeddings: pick('tieEmbeddings'), vocabFrom: pick('vocabFrom'),
  };
  if (options.headDim === undefined && shape.hidden % shape.heads !== 0) {
    throw new FleetError('invalid_request', `hidden (${shape.hidden}) must be a multiple of heads (${shape.heads})`, { param: 'heads' });
  }
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new FleetError('invalid_request', `seed must be a non-negative integer, got ${seed}`, { param: 'seed' });
  return { ...shape, headDim: options.headDim ?? shape.hidden / shape.heads, seed, rmsNormEps: options.rmsNormEps ?? 1e-5 };
}

function checkedFormats(formats: readonly string[] | undefined): WeightFormat[] {
  const list = [...new Set(formats ?? ['fp32'])];
  const bad = list.filter((f) => !(WEIGHT_FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || list.length === 0) {
    throw new FleetError('invalid_request', `weight formats must be some of ${WEIGHT_FORMATS.join(', ')}, got '${list.join(',')}'`, { param: 'weightFormats' });
  }
  return list as WeightFormat[];
}

export async function createTinyModel(options: TinyModelOptions): Promise<TinyModelResult> {
  const started = Date.now();
  const shape = resolveTinyShape(options);
  const tokenizer = loadTokenizerFiles(shape.vocabFrom, shape.maxPositions);
  const config = validateLlamaConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: shape.hidden,
    numLayers: shape.layers,
    numHeads: shape.heads,
    numKvHeads: shape.kvHeads,
    headDim: shape.headDim,
    intermediateSize: shape.intermediate,
    maxPositionEmbeddings: shape.maxPositions,
    rmsNormEps: shape.rmsNormEps,
    ropeTheta: shape.ropeTheta,
    tieWordEmbeddings: shape.tieEmbeddings,
    attentionBias: false,
  });
  const weights = new RandomLlamaWeights(config, shape.seed);
  const dir = options.outDir;
  mkdirSync(join(dir, 'onnx'), { recursive: true });

  const ids = { bosTokenId: tokenizer.bosTokenId, eosTokenIds: tokenizer.eosTokenIds, padTokenId: tokenizer.padTokenId };
  const hfEos = ids.eosTokenIds.length === 1 ? ids.eosTokenIds[0] : ids.eosTokenIds;
  writeJson(dir, 'config.json', toHfLlamaConfig(config, { bosTokenId: ids.bosTokenId, eosTokenId: hfEos, padTokenId: ids.padTokenId }));
  writeJson(dir, 'generation_config.json', generationConfig(ids));
  writeJson(dir, 'tokenizer_config.json', tokenizer.tokenizerConfig);
  writeJson(dir, 'special_tokens_map.json', specialTokensMap(tokenizer.tokenizerConfig));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizerJson));

  const generator = { generator: 'fleetchat model create-tiny', version: GENERATOR_VERSION, seed: shape.seed, tokenizer: tokenizer.packageName };
  let onnxBytes = 0;
  for (const weightFormat of checkedFormats(options.weightFormats)) {
    const graph = options.graph ?? 'standard';
    const kv = options.kvCache === 'fp16' ? { kvCache: 'fp16' as const } : {};
    const spec = buildDecoder(config, weights, { graph, weightFormat, logitsToKeepInput: options.logitsToKeepInput, ...kv, metadata: { generator: JSON.stringify({ ...generator, weightFormat, ...(graph !== 'standard' ? { graph } : {}), ...kv }) } });
    const onnx = writeOnnxModel(join(dir, 'onnx', onnxFileName(weightFormat)), spec, { externalData: options.externalData });
    onnxBytes += onnx.modelBytes + onnx.externalBytes;
  }
  const safetensorsBytes = options.safetensors === false ? 0 : writeSafetensors(join(dir, 'model.safetensors'), llamaWeightShapes(config), weights);
  return {
    dir, config, seed: shape.seed, parameterCount: parameterCount(config),
    onnxBytes, safetensorsBytes, elapsedMs: Date.now() - started,
  };
}
