/**
 * The LLaMA family in GGUF (llama.cpp architectures `llama` — LLaMA 1/2, SmolLM2, Mistral 7B — and `qwen2`):
 * the decoder's shape from `<arch>.*` metadata, and llama.cpp's tensor names mapped to Hugging Face's.
 */
import { FleetError } from '../../common/errors';
import { ValidLlamaConfig, validateLlamaConfig } from '../llama/llama-config';
import { EMBED_WEIGHT, FINAL_NORM_WEIGHT, layerWeightNames, LM_HEAD_WEIGHT } from '../llama/llama-weights';
import type { GgufFile } from './gguf-file';

/** How llama.cpp applies RoPE for the architecture: interleaved pairs (Q/K rows permuted in the file) or halves. */
export type RopeLayout = 'interleaved' | 'halves';

export interface GgufArchitecture {
  name: string;
  /** Hugging Face `model_type` and `architectures[0]` for config.json. */
  modelType: string;
  hfArchitecture: string;
  ropeLayout: RopeLayout;
}

export const GGUF_ARCHITECTURES: Readonly<Record<string, GgufArchitecture>> = {
  llama: { name: 'llama', modelType: 'llama', hfArchitecture: 'LlamaForCausalLM', ropeLayout: 'interleaved' },
  qwen2: { name: 'qwen2', modelType: 'qwen2', hfArchitecture: 'Qwen2ForCausalLM', ropeLayout: 'halves' },
};

export interface GgufLlamaModel {
  arch: GgufArchitecture;
  config: ValidLlamaConfig;
  /** Hugging Face tensor name -> GGUF tensor name, for every tensor the decoder uses. */
  tensorNames: ReadonlyMap<string, string>;
}

/** GGUF stores these as float32: 1e-5 arrives as 9.99999974e-6. The shortest decimal with the same float32 value. */
export function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === Math.fround(value)) return candidate;
  }
  return value;
}

function unsupported(file: GgufFile, message: string): FleetError {
  return new FleetError('invalid_request', `${file.path}: ${message}`, { code: 'unsupported_architecture' });
}

export function ggufArchitecture(file: GgufFile): GgufArchitecture {
  const name = file.metadata.string('general.architecture');
  const arch = GGUF_ARCHITECTURES[name];
  if (arch === undefined) {
    throw unsupported(file, `architecture '${name}' is not supported by the GGUF importer (supported: ${Object.keys(GGUF_ARCHITECTURES).join(', ')} — the LLaMA family)`);
  }
  return arch;
}

/** Hugging Face name -> GGUF name for a model with `layers` blocks. */
function nameMap(layers: number, withBias: boolean, tied: boolean): Map<string, string> {
  const map = new Map<string, string>([[EMBED_WEIGHT, 'token_embd.weight'], [FINAL_NORM_WEIGHT, 'output_norm.weight']]);
  if (!tied) map.set(LM_HEAD_WEIGHT, 'output.weight');
  for (let i = 0; i < layers; i++) {
    const n = layerWeightNames(i);
    const b = `blk.${i}`;
    const pairs: Array<[string, string]> = [
      [n.inputNorm, `${b}.attn_norm.weight`], [n.q, `${b}.attn_q.weight`], [n.k, `${b}.attn_k.weight`], [n.v, `${b}.attn_v.weight`],
      [n.o, `${b}.attn_output.weight`], [n.postNorm, `${b}.ffn_norm.weight`], [n.gate, `${b}.ffn_gate.weight`], [n.up, `${b}.ffn_up.weight`],
      [n.down, `${b}.ffn_down.weight`],
    ];
    if (withBias) pairs.push([n.qBias, `${b}.attn_q.bias`], [n.kBias, `${b}.attn_k.bias`], [n.vBias, `${b}.attn_v.bias`]);
    for (const [hf, g] of pairs) map.set(hf, g);
  }
  return map;
}

function checkNoExtras(file: GgufFile, used: ReadonlySet<string>): void {
  if (file.tensors.has('rope_freqs.weight')) throw unsupported(file, 'RoPE frequency scaling (rope_freqs.weight, Llama 3.1-style) is not supported');
  const extra = [...file.tensors.keys()].filter((n) => !used.has(n));
  if (extra.length > 0) {
    throw unsupported(file, `tensors the LLaMA decoder does not use: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''} (a variant this importer does not support)`);
  }
}

function checkRope(file: GgufFile, a: string, headDim: number): void {
  const m = file.metadata;
  const scaling = m.optionalString(`${a}.rope.scaling.type`);
  if (scaling !== undefined && scaling !== 'none') throw unsupported(file, `RoPE scaling '${scaling}' is not supported`);
  const ropeDims = m.optionalInteger(`${a}.rope.dimension_count`);
  if (ropeDims !== undefined && ropeDims !== headDim) throw unsupported(file, `partial rotary embeddings (${ropeDims} of ${headDim} head dims) are not supported`);
  if ((m.optionalInteger(`${a}.expert_count`) ?? 0) > 0) throw unsupported(file, 'mixture-of-experts models are not supported');
}

export function readGgufLlama(file: GgufFile): GgufLlamaModel {
  const arch = ggufArchitecture(file);
  const m = file.metadata;
  const a = arch.name;
  const hiddenSize = m.integer(`${a}.embedding_length`);
  const numHeads = m.integer(`${a}.attention.head_count`);
  const headDim = m.optionalInteger(`${a}.attention.key_length`) ?? Math.floor(hiddenSize / numHeads);
  const valueDim = m.optionalInteger(`${a}.attention.value_length`) ?? headDim;
  if (valueDim !== headDim) throw unsupported(file, `value head size ${valueDim} differs from key head size ${headDim}`);
  checkRope(file, a, headDim);
  const embed = file.tensors.get('token_embd.weight');
  if (embed === undefined || embed.dims.length !== 2) throw unsupported(file, 'no 2-D token_embd.weight tensor');
  const numLayers = m.integer(`${a}.block_count`);
  const tied = !file.tensors.has('output.weight');
  const withBias = file.tensors.has('blk.0.attn_q.bias');
  const config = validateLlamaConfig({
    vocabSize: embed.dims[1],
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads: m.optionalInteger(`${a}.attention.head_count_kv`) ?? numHeads,
    headDim,
    intermediateSize: m.integer(`${a}.feed_forward_length`),
    maxPositionEmbeddings: m.integer(`${a}.context_length`),
    rmsNormEps: shortestFloat32(m.number(`${a}.attention.layer_norm_rms_epsilon`)),
    ropeTheta: shortestFloat32(m.optionalNumber(`${a}.rope.freq_base`) ?? 10000),
    tieWordEmbeddings: tied,
    attentionBias: withBias,
  });
  const tensorNames = nameMap(numLayers, withBias, tied);
  const missing = [...tensorNames.values()].filter((g) => !file.tensors.has(g));
  if (missing.length > 0) throw unsupported(file, `missing tensors: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  checkNoExtras(file, new Set(tensorNames.values()));
  return { arch, config, tensorNames };
}
