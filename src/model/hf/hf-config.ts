/**
 * A Hugging Face checkpoint's config.json -> our LLaMA config, for the families the graph builder computes exactly
 * (llama — LLaMA, SmolLM2 —, mistral without a sliding window shorter than the context, qwen2). transformers 5 writes
 * rope_theta inside rope_parameters; both layouts are read. RoPE scaling (llama3, yarn, …) is refused rather than
 * silently computed wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../../common/errors';
import { fromHfLlamaConfig, type ValidLlamaConfig } from '../llama/llama-config';

export const HF_FAMILIES = ['llama', 'mistral', 'qwen2'] as const;

export interface HfModelConfig {
  config: ValidLlamaConfig;
  modelType: string;
  architecture: string;
  bosTokenId: number | null;
  eosTokenId: number | number[];
  padTokenId: number | null;
}

function bad(path: string, message: string): never {
  throw new FleetError('invalid_request', `${path}: ${message}`, { code: 'invalid_checkpoint' });
}

export function readHfConfig(dir: string): HfModelConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) bad(dir, 'no config.json (not a Hugging Face model directory)');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return bad(path, `not JSON (${(err as Error).message})`);
  }
  const modelType = typeof json.model_type === 'string' ? json.model_type : '';
  if (!(HF_FAMILIES as readonly string[]).includes(modelType)) bad(path, `model_type '${modelType}' is not LLaMA-family (${HF_FAMILIES.join(', ')})`);
  const rope = (json.rope_parameters ?? null) as Record<string, unknown> | null;
  const scaling = (json.rope_scaling ?? null) as Record<string, unknown> | null;
  const ropeType = (rope?.rope_type ?? scaling?.rope_type ?? scaling?.type ?? 'default') as string;
  if (ropeType !== 'default') bad(path, `RoPE scaling '${ropeType}' is not supported by the graph builder`);
  const ropeTheta = typeof rope?.rope_theta === 'number' ? rope.rope_theta : json.rope_theta;
  const config = fromHfLlamaConfig({ ...json, rope_theta: ropeTheta ?? 10000 });
  const window = json.sliding_window;
  if (json.use_sliding_window !== false && typeof window === 'number' && window < config.maxPositionEmbeddings) {
    bad(path, `sliding_window ${window} < max_position_embeddings ${config.maxPositionEmbeddings}: sliding-window attention is not supported`);
  }
  const eos: unknown = json.eos_token_id;
  const eosTokenId: number | number[] = typeof eos === 'number' ? eos : Array.isArray(eos) && eos.every((e) => typeof e === 'number') ? eos : [];
  return {
    config,
    modelType,
    architecture: Array.isArray(json.architectures) && typeof json.architectures[0] === 'string' ? json.architectures[0] : 'LlamaForCausalLM',
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : null,
    eosTokenId,
    padTokenId: typeof json.pad_token_id === 'number' ? json.pad_token_id : null,
  };
}
