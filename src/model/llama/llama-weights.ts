/** Hugging Face LlamaForCausalLM tensor names and shapes for a LLaMA config. */
import { ValidLlamaConfig } from './llama-config';

export interface LayerWeightNames {
  inputNorm: string;
  q: string;
  k: string;
  v: string;
  qBias: string;
  kBias: string;
  vBias: string;
  o: string;
  postNorm: string;
  gate: string;
  up: string;
  down: string;
}

export const EMBED_WEIGHT = 'model.embed_tokens.weight';
export const FINAL_NORM_WEIGHT = 'model.norm.weight';
export const LM_HEAD_WEIGHT = 'lm_head.weight';

export function layerWeightNames(layer: number): LayerWeightNames {
  const p = `model.layers.${layer}`;
  return {
    inputNorm: `${p}.input_layernorm.weight`,
    q: `${p}.self_attn.q_proj.weight`,
    k: `${p}.self_attn.k_proj.weight`,
    v: `${p}.self_attn.v_proj.weight`,
    qBias: `${p}.self_attn.q_proj.bias`,
    kBias: `${p}.self_attn.k_proj.bias`,
    vBias: `${p}.self_attn.v_proj.bias`,
    o: `${p}.self_attn.o_proj.weight`,
    postNorm: `${p}.post_attention_layernorm.weight`,
    gate: `${p}.mlp.gate_proj.weight`,
    up: `${p}.mlp.up_proj.weight`,
    down: `${p}.mlp.down_proj.weight`,
  };
}

export interface NamedShape {
  name: string;
  shape: number[];
}

/**
 * Every tensor of the model with its Hugging Face shape, in the order transformers lists them. A tied model has no
 * `lm_head.weight` (transformers drops the shared tensor when saving).
 */
export function llamaWeightShapes(c: ValidLlamaConfig): NamedShape[] {
  const { hiddenSize: h, headDim: d, intermediateSize: i } = c;
  const out: NamedShape[] = [{ name: EMBED_WEIGHT, shape: [c.vocabSize, h] }];
  for (let layer = 0; layer < c.numLayers; layer++) {
    const n = layerWeightNames(layer);
    out.push({ name: n.inputNorm, shape: [h] });
    out.push({ name: n.q, shape: [c.numHeads * d, h] });
    out.push({ name: n.k, shape: [c.numKvHeads * d, h] });
    out.push({ name: n.v, shape: [c.numKvHeads * d, h] });
    if (c.attentionBias) {
      out.push({ name: n.qBias, shape: [c.numHeads * d] });
      out.push({ name: n.kBias, shape: [c.numKvHeads * d] });
      out.push({ name: n.vBias, shape: [c.numKvHeads * d] });
    }
    out.push({ name: n.o, shape: [h, c.numHeads * d] });
    out.push({ name: n.postNorm, shape: [h] });
    out.push({ name: n.gate, shape: [i, h] });
    out.push({ name: n.up, shape: [i, h] });
    out.push({ name: n.down, shape: [h, i] });
  }
  out.push({ name: FINAL_NORM_WEIGHT, shape: [h] });
  if (!c.tieWordEmbeddings) out.push({ name: LM_HEAD_WEIGHT, shape: [c.vocabSize, h] });
  return out;
}

export function parameterCount(c: ValidLlamaConfig): number {
  return llamaWeightShapes(c).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}
