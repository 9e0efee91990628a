/**
 * buildLlamaDecoder: a LLaMA-architecture decoder as an ONNX graph of standard opset-17 ops, in the layout that
 * Hugging Face optimum exports and transformers.js loads:
 *   inputs  input_ids [batch_size, sequence_length] int64, attention_mask [batch_size, total_sequence_length] int64,
 *           position_ids [batch_size, sequence_length] int64,
 *           num_logits_to_keep [] int64 (logits for the last N positions only; 0 = every position),
 *           past_key_values.N.key|value [batch_size, kvHeads, past_sequence_length, headDim] float32
 *   outputs logits [batch_size, num_logits, vocab] float32 (num_logits = sequence_length, or num_logits_to_keep),
 *           present.N.key|value [batch_size, kvHeads, total_sequence_length, headDim] float32
 * total_sequence_length = past_sequence_length + sequence_length; slot order is time order (left padding).
 */
import { FleetError } from '../../common/errors';
import { intAttr } from '../onnx/attributes';
import { GraphBuilder, OnnxModelSpec } from '../onnx/graph-builder';
import { bytesOf } from '../onnx/tensor-types';
import { getWeight, WeightSource } from '../weights/weight-source';
import { attentionBias, rotaryTables } from './decoder-prelude';
import { decoderLayer, floatInitializer, rmsNorm, vectorWeight, type FloatType } from './decoder-layer';
import { TensorProto_DataType } from '../onnx/onnx';
import { ValidLlamaConfig } from './llama-config';
import { nbitsLinear, QuantOptions, quantOptionsFor, WeightFormat } from '../quant/nbits-linear';
import { EMBED_WEIGHT, FINAL_NORM_WEIGHT, llamaWeightShapes, LM_HEAD_WEIGHT } from './llama-weights';

export const DECODER_OPSET = 17;
export const PRODUCER_NAME = 'fleetchat';

export interface DecoderBuildOptions {
  /** float32 MatMul (default) or MatMulNBits int8 / int4 weights for every linear layer and the lm_head. */
  weightFormat?: WeightFormat;
  /** MatMulNBits accuracy_level (default 4: int8 activations, onnxruntime's fast path; 0: float32 compute). */
  accuracyLevel?: number;
  producerVersion?: string;
  /** Extra metadata_props of the model. */
  metadata?: Record<string, string>;
  /** Declare the `num_logits_to_keep` input (default true); false gives the older export interface without it. */
  logitsToKeepInput?: boolean;
  /**
   * Fused graphs only: the KV cache's precision. fp32 (default) follows the activations; fp16 keeps a float32 (int8,
   * int4) graph's cache in half precision, a graph only fleetchat's CPU attention kernel runs (see fused-decoder-graph.ts).
   */
  kvCache?: KvCacheFormat;
}

/** `--kv-cache`: the precision of a fused graph's KV cache. */
export type KvCacheFormat = 'fp32' | 'fp16';
export const KV_CACHE_FORMATS: readonly KvCacheFormat[] = ['fp32', 'fp16'];

export function pastKeyName(layer: number): string {
  return `past_key_values.${layer}.key`;
}
export function pastValueName(layer: number): string {
  return `past_key_values.${layer}.value`;
}
export function presentKeyName(layer: number): string {
  return `present.${layer}.key`;
}
export function presentValueName(layer: number): string {
  return `present.${layer}.value`;
}

export function checkWeightsPresent(config: ValidLlamaConfig, weights: WeightSource): void {
  const missing = llamaWeightShapes(config).filter((t) => !weights.has(t.name)).map((t) => t.name);
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ');
    throw new FleetError('invalid_request', `${missing.length} weight(s) missing for this LLaMA config: ${shown}${missing.length > 5 ? ', ...' : ''}`);
  }
}

/**
 * logits = norm(x) @ W^T with W the [vocab, hidden] lm_head (or the embedding when tied): Gemm transB in float32,
 * MatMulNBits (which takes W as is) when quantised.
 */
export function lmHead(g: GraphBuilder, config: ValidLlamaConfig, weights: WeightSource, values: { hidden: string; embed: string; quant?: QuantOptions; float?: FloatType }): string {
  const { hidden, embed, quant } = values;
  const float = values.float ?? 'float32';
  const { vocabSize: v, hiddenSize: h } = config;
  const headName = config.tieWordEmbeddings ? EMBED_WEIGHT : LM_HEAD_WEIGHT;
  if (quant !== undefined) {
    const logits = nbitsLinear(g, weights, hidden, { initName: 'lm_head.weight', names: [headName], outs: [v], inSize: h }, quant);
    return g.op('Identity', [logits], undefined, 'logits');
  }
  const head = config.tieWordEmbeddings
    ? embed
    : floatInitializer(g, LM_HEAD_WEIGHT, float, [v, h], () => getWeight(weights, LM_HEAD_WEIGHT, [v, h]).data);
  const flat = g.op('Reshape', [hidden, g.int64s([-1, h])]);
  const scores = g.op('Gemm', [flat, head], { transB: intAttr(1) });
  const shape = g.op('Concat', [g.op('Shape', [hidden], { end: intAttr(2) }), g.int64s([v])], { axis: intAttr(0) });
  if (float === 'float32') return g.op('Reshape', [scores, shape], undefined, 'logits');
  // Half-precision graphs hand back float32 logits: the cast runs on the device, not in JavaScript.
  return g.op('Cast', [g.op('Reshape', [scores, shape])], { to: intAttr(TensorProto_DataType.FLOAT) }, 'logits');
}

/** The last `keep` positions of hidden [batch, seq, h] (all of them when keep is 0: Slice from -0 = 0). */
export function lastPositions(g: GraphBuilder, hidden: string, keep: string): string {
  const starts = g.op('Neg', [g.op('Unsqueeze', [keep, g.int64s([0])])]);
  return g.op('Slice', [hidden, starts, g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([1])]);
}

export function buildLlamaDecoder(config: ValidLlamaConfig, weights: WeightSource, options: DecoderBuildOptions = {}): OnnxModelSpec {
  checkWeightsPresent(config, weights);
  if (options.weightFormat === 'fp16') {
    throw new FleetError('invalid_request', 'fp16 weights are written for fused graphs (--graph fused --weights fp16); a standard graph in fp16 comes from onnxruntime\'s converter (bench/gpu/to_fp16.py)', { param: 'weights' });
  }
  const c = config;
  const g = new GraphBuilder('llama_decoder', DECODER_OPSET);
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const keepLogits = options.logitsToKeepInput === false ? undefined : g.input('num_logits_to_keep', 'int64', []);
  const kvDims = ['batch_size', c.numKvHeads, 'past_sequence_length', c.headDim];
  const presentDims = ['batch_size', c.numKvHeads, 'total_sequence_length', c.headDim];
  for (let layer = 0; layer < c.numLayers; layer++) {
    g.input(pastKeyName(layer), 'float32', kvDims);
    g.input(pastValueName(layer), 'float32', kvDims);
  }
  g.output('logits', 'float32', ['batch_size', keepLogits === undefined ? 'sequence_length' : 'num_logits', c.vocabSize]);
  for (let layer = 0; layer < c.numLayers; layer++) {
    g.output(presentKeyName(layer), 'float32', presentDims);
    g.output(presentValueName(layer), 'float32', presentDims);
  }

  g.prefix = '/model';
  const embed = g.initializer(EMBED_WEIGHT, 'float32', [c.vocabSize, c.hiddenSize], () =>
    bytesOf(getWeight(weights, EMBED_WEIGHT, [c.vocabSize, c.hiddenSize]).data),
  );
  let x = g.op('Gather', [embed, inputIds], { axis: intAttr(0) });
  const bias = attentionBias(g, attentionMask, inputIds);
  const rotary = rotaryTables(g, positionIds, c.headDim, c.ropeTheta);
  const quant = quantOptionsFor(options.weightFormat ?? 'fp32', options.accuracyLevel);
  for (let layer = 0; layer < c.numLayers; layer++) {
    const io = { pastKey: pastKeyName(layer), pastValue: pastValueName(layer), presentKey: presentKeyName(layer), presentValue: presentValueName(layer) };
    x = decoderLayer(g, { config: c, weights, rotary, bias, quant }, layer, x, io);
  }
  g.prefix = '/model/norm';
  const normed = rmsNorm(g, x, vectorWeight(g, weights, FINAL_NORM_WEIGHT, c.hiddenSize), c.rmsNormEps);
  g.prefix = '/lm_head';
  lmHead(g, c, weights, { hidden: keepLogits === undefined ? normed : lastPositions(g, normed, keepLogits), embed, quant });
  return g.build(PRODUCER_NAME, options.producerVersion ?? '0', options.metadata ?? {});
}
