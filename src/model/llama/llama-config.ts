/**
 * The shape of a LLaMA-architecture decoder (LLaMA, Mistral, Qwen2, SmolLM2): what the graph builder, the tiny-model
 * generator and the GGUF importer agree on, and its translation to and from Hugging Face's config.json.
 */
import { FleetError } from '../../common/errors';

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Per-head size; Hugging Face's default is hiddenSize / numHeads. */
  headDim: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2). */
  attentionBias: boolean;
}

declare const validLlama: unique symbol;
export type ValidLlamaConfig = Readonly<LlamaConfig> & { readonly [validLlama]: true };

function positiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new FleetError('invalid_request', `${name} must be a positive integer, got ${value}`, { param: name });
}

export function validateLlamaConfig(config: LlamaConfig): ValidLlamaConfig {
  const ints: Array<keyof LlamaConfig> = ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize', 'maxPositionEmbeddings'];
  for (const key of ints) positiveInt(key, config[key] as number);
  if (config.numHeads % config.numKvHeads !== 0) {
    throw new FleetError('invalid_request', `numHeads (${config.numHeads}) must be a multiple of numKvHeads (${config.numKvHeads})`, { param: 'numKvHeads' });
  }
  if (config.headDim % 2 !== 0) throw new FleetError('invalid_request', `headDim must be even for rotary embeddings, got ${config.headDim}`, { param: 'headDim' });
  if (!(config.rmsNormEps > 0)) throw new FleetError('invalid_request', `rmsNormEps must be > 0, got ${config.rmsNormEps}`, { param: 'rmsNormEps' });
  if (!(config.ropeTheta > 0)) throw new FleetError('invalid_request', `ropeTheta must be > 0, got ${config.ropeTheta}`, { param: 'ropeTheta' });
  return { ...config } as ValidLlamaConfig;
}

export interface HfTokenIds {
  bosTokenId: number | null;
  eosTokenId: number | number[];
  padTokenId?: number | null;
}

/** Hugging Face `config.json` of a LlamaForCausalLM with this shape. */
export function toHfLlamaConfig(config: ValidLlamaConfig, tokens: HfTokenIds): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    intermediate_size: config.intermediateSize,
    hidden_act: 'silu',
    max_position_embeddings: config.maxPositionEmbeddings,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    attention_bias: config.attentionBias,
    attention_dropout: 0.0,
    mlp_bias: false,
    tie_word_embeddings: config.tieWordEmbeddings,
    initializer_range: 0.02,
    pretraining_tp: 1,
    bos_token_id: tokens.bosTokenId,
    eos_token_id: tokens.eosTokenId,
    ...(tokens.padTokenId === undefined ? {} : { pad_token_id: tokens.padTokenId }),
    torch_dtype: 'float32',
    use_cache: true,
    transformers_version: '4.46.0',
  };
}

function numberField(json: Record<string, unknown>, key: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number') throw new FleetError('invalid_request', `config.json: '${key}' must be a number`, { param: key });
  return value;
}

/** Reads a Hugging Face LLaMA / Mistral / Qwen2 config.json. */
export function fromHfLlamaConfig(json: Record<string, unknown>): ValidLlamaConfig {
  const hiddenSize = numberField(json, 'hidden_size');
  const numHeads = numberField(json, 'num_attention_heads');
  const modelType = typeof json.model_type === 'string' ? json.model_type : '';
  return validateLlamaConfig({
    vocabSize: numberField(json, 'vocab_size'),
    hiddenSize,
    numLayers: numberField(json, 'num_hidden_layers'),
    numHeads,
    numKvHeads: numberField(json, 'num_key_value_heads', numHeads),
    headDim: numberField(json, 'head_dim', Math.floor(hiddenSize / numHeads)),
    intermediateSize: numberField(json, 'intermediate_size'),
    maxPositionEmbeddings: numberField(json, 'max_position_embeddings', 2048),
    rmsNormEps: numberField(json, 'rms_norm_eps', 1e-6),
    ropeTheta: numberField(json, 'rope_theta', 10000),
    tieWordEmbeddings: json.tie_word_embeddings === true,
    attentionBias: json.attention_bias === true || modelType === 'qwen2',
  });
}
