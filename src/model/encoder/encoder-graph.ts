/**
 * buildBertEncoder: a post-norm BERT encoder as standard opset-17 ONNX, in the layout of optimum's feature-extraction
 * exports: input_ids, attention_mask [, token_type_ids] [batch_size, sequence_length] int64 ->
 * last_hidden_state [batch_size, sequence_length, hidden] float32. Padding (attention_mask 0) is hidden from every
 * query, so a padded row's real positions equal the unpadded row's.
 */
import { floatAttr, intAttr, intsAttr } from '../onnx/attributes';
import { GraphBuilder, OnnxModelSpec } from '../onnx/graph-builder';
import { TensorProto_DataType } from '../onnx/onnx';
import { bytesOf } from '../onnx/tensor-types';
import { fusedLinearWeight, vectorWeight } from '../llama/decoder-layer';
import { MASK_MIN_FLOAT32 } from '../llama/decoder-prelude';
import { concatRows, getWeight, WeightSource } from '../weights/weight-source';
import { bertLayerNames, ValidBertConfig } from './bert-config';

export interface EncoderBuildOptions {
  /** Include the token_type_ids input (BERT exports do; default true). */
  tokenTypeIds?: boolean;
}

function tableWeight(g: GraphBuilder, w: WeightSource, name: string, shape: [number, number]): string {
  return g.initializer(name, 'float32', shape, () => bytesOf(getWeight(w, name, shape).data));
}

function layerNorm(g: GraphBuilder, w: WeightSource, x: string, name: string, c: ValidBertConfig): string {
  const scale = vectorWeight(g, w, `${name}.weight`, c.hiddenSize);
  const bias = vectorWeight(g, w, `${name}.bias`, c.hiddenSize);
  const [y] = g.node('LayerNormalization', [x, scale, bias], { attrs: { axis: intAttr(-1), epsilon: floatAttr(c.layerNormEps) } });
  return y;
}

interface DenseLayers {
  names: string[];
  outs: number[];
  inSize: number;
}

/** x @ W + b for one or more Hugging Face Linear layers fused along their outputs. */
function linear(g: GraphBuilder, w: WeightSource, x: string, { names, outs, inSize }: DenseLayers): string {
  const weight = fusedLinearWeight(g, w, { initName: `${names.join('+')}.weight_t`, names: names.map((n) => `${n}.weight`), outs, inSize });
  const total = outs.reduce((a, b) => a + b, 0);
  const bias = g.initializer(`${names.join('+')}.bias`, 'float32', [total], () =>
    bytesOf(concatRows(names.map((n, i) => getWeight(w, `${n}.bias`, [outs[i]]).data))),
  );
  return g.op('Add', [g.op('MatMul', [x, weight]), bias]);
}

function selfAttention(g: GraphBuilder, w: WeightSource, c: ValidBertConfig, at: { layer: number; x: string; bias: string }): string {
  const { layer, x, bias } = at;
  const n = bertLayerNames(layer);
  const h = c.hiddenSize;
  const d = h / c.numHeads;
  const qkv = linear(g, w, x, { names: [n.q, n.k, n.v], outs: [h, h, h], inSize: h });
  const [q, k, v] = g.node('Split', [qkv, g.int64s([h, h, h])], { attrs: { axis: intAttr(-1) }, outputs: 3 });
  const heads = g.int64s([0, 0, c.numHeads, d]);
  const qh = g.op('Transpose', [g.op('Reshape', [q, heads])], { perm: intsAttr([0, 2, 1, 3]) });
  const kt = g.op('Transpose', [g.op('Reshape', [k, heads])], { perm: intsAttr([0, 2, 3, 1]) });
  const vh = g.op('Transpose', [g.op('Reshape', [v, heads])], { perm: intsAttr([0, 2, 1, 3]) });
  const scores = g.op('Add', [g.op('MatMul', [g.op('Mul', [qh, g.float32s([1 / Math.sqrt(d)], [])]), kt]), bias]);
  const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: intAttr(-1) }), vh]);
  const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: intsAttr([0, 2, 1, 3]) }), g.int64s([0, 0, h])]);
  return linear(g, w, merged, { names: [n.o], outs: [h], inSize: h });
}

/** GELU, exact (erf) form: 0.5 x (1 + erf(x / sqrt 2)). */
function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.float32s([Math.SQRT1_2], [])])]);
  return g.op('Mul', [g.op('Mul', [x, g.float32s([0.5], [])]), g.op('Add', [erf, g.float32s([1], [])])]);
}

function encoderLayer(g: GraphBuilder, w: WeightSource, c: ValidBertConfig, at: { layer: number; x: string; bias: string }): string {
  const { layer, x, bias } = at;
  const n = bertLayerNames(layer);
  g.prefix = `/encoder/layer.${layer}/attention`;
  const attended = layerNorm(g, w, g.op('Add', [x, selfAttention(g, w, c, { layer, x, bias })]), n.attnNorm, c);
  g.prefix = `/encoder/layer.${layer}/ffn`;
  const up = gelu(g, linear(g, w, attended, { names: [n.up], outs: [c.intermediateSize], inSize: c.hiddenSize }));
  const down = linear(g, w, up, { names: [n.down], outs: [c.hiddenSize], inSize: c.intermediateSize });
  return layerNorm(g, w, g.op('Add', [attended, down]), n.outNorm, c);
}

function embeddings(g: GraphBuilder, w: WeightSource, c: ValidBertConfig, inputIds: string, tokenTypes: string | undefined): string {
  const h = c.hiddenSize;
  const words = g.op('Gather', [tableWeight(g, w, 'embeddings.word_embeddings.weight', [c.vocabSize, h]), inputIds], { axis: intAttr(0) });
  const seq = g.op('Gather', [g.op('Shape', [inputIds]), g.int64s([1], [])], { axis: intAttr(0) });
  const positions = g.op('Range', [g.int64s([0], []), seq, g.int64s([1], [])]);
  const posTable = tableWeight(g, w, 'embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, h]);
  let sum = g.op('Add', [words, g.op('Gather', [posTable, positions], { axis: intAttr(0) })]);
  const typeTable = tableWeight(g, w, 'embeddings.token_type_embeddings.weight', [c.typeVocabSize, h]);
  // Without a token_type_ids input every token is of type 0.
  const types = tokenTypes === undefined ? g.op('Gather', [typeTable, g.int64s([0], [])], { axis: intAttr(0) }) : g.op('Gather', [typeTable, tokenTypes], { axis: intAttr(0) });
  sum = g.op('Add', [sum, types]);
  return layerNorm(g, w, sum, 'embeddings.LayerNorm', c);
}

export function buildBertEncoder(config: ValidBertConfig, weights: WeightSource, options: EncoderBuildOptions = {}): OnnxModelSpec {
  const c = config;
  const g = new GraphBuilder('bert_encoder', 17);
  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const tokenTypes = options.tokenTypeIds === false ? undefined : g.input('token_type_ids', 'int64', dims);
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', c.hiddenSize]);
  g.prefix = '/embeddings';
  let x = embeddings(g, weights, c, inputIds, tokenTypes);
  const visible = g.op('Cast', [attentionMask], { to: intAttr(TensorProto_DataType.BOOL) });
  const bias = g.op('Unsqueeze', [g.op('Where', [visible, g.float32s([0], []), g.float32s([MASK_MIN_FLOAT32], [])]), g.int64s([1, 2])]);
  for (let layer = 0; layer < c.numLayers; layer++) x = encoderLayer(g, weights, c, { layer, x, bias });
  g.prefix = '';
  g.op('Identity', [x], undefined, 'last_hidden_state');
  return g.build('fleetchat', '0');
}
