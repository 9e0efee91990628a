/** A BERT-style encoder's shape, its Hugging Face config.json and BertModel tensor names. */
import { FleetError } from '../../common/errors';
import { NamedShape } from '../llama/llama-weights';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
}

declare const validBert: unique symbol;
export type ValidBertConfig = Readonly<BertConfig> & { readonly [validBert]: true };

export function validateBertConfig(c: BertConfig): ValidBertConfig {
  const ints: Array<keyof BertConfig> = ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositionEmbeddings', 'typeVocabSize'];
  for (const key of ints) {
    if (!Number.isSafeInteger(c[key]) || c[key] <= 0) throw new FleetError('invalid_request', `${key} must be a positive integer, got ${c[key]}`, { param: key });
  }
  if (c.hiddenSize % c.numHeads !== 0) throw new FleetError('invalid_request', `hidden (${c.hiddenSize}) must be a multiple of heads (${c.numHeads})`, { param: 'heads' });
  return { ...c } as ValidBertConfig;
}

export function toHfBertConfig(c: ValidBertConfig, padTokenId: number): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.0,
    attention_probs_dropout_prob: 0.0,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    position_embedding_type: 'absolute',
    pad_token_id: padTokenId,
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
  };
}

export function bertLayerNames(layer: number): Record<'q' | 'k' | 'v' | 'o' | 'attnNorm' | 'up' | 'down' | 'outNorm', string> {
  const p = `encoder.layer.${layer}`;
  return {
    q: `${p}.attention.self.query`,
    k: `${p}.attention.self.key`,
    v: `${p}.attention.self.value`,
    o: `${p}.attention.output.dense`,
    attnNorm: `${p}.attention.output.LayerNorm`,
    up: `${p}.intermediate.dense`,
    down: `${p}.output.dense`,
    outNorm: `${p}.output.LayerNorm`,
  };
}

/** BertModel's tensors (`.weight` / `.bias` appended to the layer names above). */
export function bertWeightShapes(c: ValidBertConfig): NamedShape[] {
  const h = c.hiddenSize;
  const out: NamedShape[] = [
    { name: 'embeddings.word_embeddings.weight', shape: [c.vocabSize, h] },
    { name: 'embeddings.position_embeddings.weight', shape: [c.maxPositionEmbeddings, h] },
    { name: 'embeddings.token_type_embeddings.weight', shape: [c.typeVocabSize, h] },
    { name: 'embeddings.LayerNorm.weight', shape: [h] },
    { name: 'embeddings.LayerNorm.bias', shape: [h] },
  ];
  for (let l = 0; l < c.numLayers; l++) {
    const n = bertLayerNames(l);
    const linear = (name: string, outSize: number, inSize: number): void => {
      out.push({ name: `${name}.weight`, shape: [outSize, inSize] }, { name: `${name}.bias`, shape: [outSize] });
    };
    linear(n.q, h, h);
    linear(n.k, h, h);
    linear(n.v, h, h);
    linear(n.o, h, h);
    out.push({ name: `${n.attnNorm}.weight`, shape: [h] }, { name: `${n.attnNorm}.bias`, shape: [h] });
    linear(n.up, c.intermediateSize, h);
    linear(n.down, h, c.intermediateSize);
    out.push({ name: `${n.outNorm}.weight`, shape: [h] }, { name: `${n.outNorm}.bias`, shape: [h] });
  }
  return out;
}
