/**
 * Reading and validating a model directory's `config.json` and `generation_config.json` (Hugging Face names).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../common/errors';
import type { GenerationConfigJson } from '../sampling/params';

/** Decoder families whose optimum / transformers.js ONNX exports share our KV-cache interface. */
export const DECODER_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi3', 'granite', 'olmo', 'olmo2', 'smollm3', 'stablelm', 'cohere'] as const;
/** Encoder families served as embedding models (last_hidden_state + pooling). */
export const ENCODER_MODEL_TYPES = ['bert', 'roberta', 'xlm-roberta', 'distilbert', 'mpnet', 'nomic_bert', 'modernbert', 'e5', 'bge'] as const;

export type ModelFamily = 'decoder' | 'encoder';

export interface ModelConfigJson {
  architectures?: string[];
  model_type?: string;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_dim?: number;
  vocab_size?: number;
  max_position_embeddings?: number;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  sliding_window?: number | null;
}

export interface ValidModelConfig {
  raw: ModelConfigJson;
  family: ModelFamily;
  modelType: string;
  architecture: string;
  vocabSize: number;
  contextLength: number;
  eosTokenIds: number[];
  bosTokenId: number | undefined;
  hiddenSize: number;
}

function readJson<T>(path: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FleetError('not_found', `${what} is missing: ${path}`, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new FleetError('invalid_request', `${what} is not valid JSON: ${path} (${(err as Error).message})`, { cause: err });
  }
}

function ids(value: number | number[] | null | undefined): number[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => Number.isInteger(v));
}

export function readModelConfig(dir: string): ValidModelConfig {
  const raw = readJson<ModelConfigJson>(join(dir, 'config.json'), 'config.json');
  const modelType = (raw.model_type ?? '').toLowerCase();
  const architecture = raw.architectures?.[0] ?? modelType;
  const family: ModelFamily | undefined = (DECODER_MODEL_TYPES as readonly string[]).includes(modelType)
    ? 'decoder'
    : (ENCODER_MODEL_TYPES as readonly string[]).includes(modelType)
      ? 'encoder'
      : undefined;
  if (!family) {
    throw new FleetError(
      'invalid_request',
      `unsupported architecture '${architecture}' (model_type '${raw.model_type ?? 'missing'}') in ${dir}/config.json; ` +
        `supported decoders: ${DECODER_MODEL_TYPES.join(', ')}; encoders: ${ENCODER_MODEL_TYPES.join(', ')}`,
      { code: 'unsupported_architecture' },
    );
  }
  if (!Number.isInteger(raw.vocab_size) || (raw.vocab_size ?? 0) <= 0) {
    throw new FleetError('invalid_request', `config.json in ${dir} has no valid vocab_size`);
  }
  const generation = readGenerationConfig(dir);
  const eos = ids(generation.eos_token_id ?? raw.eos_token_id);
  return {
    raw,
    family,
    modelType,
    architecture,
    vocabSize: raw.vocab_size as number,
    contextLength: raw.max_position_embeddings ?? 2048,
    eosTokenIds: eos,
    bosTokenId: generation.bos_token_id ?? raw.bos_token_id ?? undefined,
    hiddenSize: raw.hidden_size ?? 0,
  };
}

export function readGenerationConfig(dir: string): GenerationConfigJson {
  const path = join(dir, 'generation_config.json');
  return existsSync(path) ? readJson<GenerationConfigJson>(path, 'generation_config.json') : {};
}
