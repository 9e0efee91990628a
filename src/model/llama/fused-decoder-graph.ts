/**
 * buildFusedLlamaDecoder: the same LLaMA decoder as decoder-graph.ts, written with onnxruntime's contrib operators
 * (as onnxruntime-genai's model builder emits them for CPU and CUDA) instead of standard-op patterns:
 *   - SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization (com.microsoft): RMSNorm, fused with the
 *     residual Add that precedes it;
 *   - GroupQueryAttention (com.microsoft) on the packed q|k|v projection, with the rotary embedding inside
 *     (cos/sin tables as initializers) and a KV cache of fixed capacity that it updates in place when the caller
 *     binds the same buffer as `past_key_values.N.*` and `present.N.*`;
 *   - MatMulNBits for every linear layer (int8 / int4), GatherBlockQuantized for the embedding of quantised graphs.
 * Interface (differs from the standard graph: the engine feeds lengths, not a mask):
 *   inputs  input_ids [batch_size, sequence_length] int64,
 *           seqlens_k [batch_size] int32 (each row's total length after this pass, minus 1),
 *           total_sequence_length [] int32 (the longest row's total length),
 *           num_logits_to_keep [] int64,
 *           past_key_values.N.key|value [batch_size, kvHeads, max_cache_length, headDim] float32 (float16 with
 *           `weightFormat: 'fp16'`: weights, activations and cache in half precision, as onnxruntime's CUDA
 *           GroupQueryAttention requires; float16 under float32 activations with `kvCache: 'fp16'`: half the bytes
 *           per cached position, a graph that only fleetchat's CPU kernel runs — see ATTENTION_KERNEL_METADATA)
 *   outputs logits [batch_size, num_logits, vocab] float32 (cast inside fp16 graphs),
 *           greedy_tokens [batch_size, num_logits] int64 (argmax of the logits: a greedy decode step on a GPU reads
 *           these ids and leaves the logits on the device),
 *           present.N.key|value (same shape as past: the same buffer).
 * Each row's tokens sit at cache slots 0 .. length-1 (right padding); positions follow from seqlens_k. A pass is a
 * prompt (sequence_length = total_sequence_length, any batch, rows right-padded), a continuation of one row's
 * prompt over its cache (batch 1), or a decode step (sequence_length 1, rows of any lengths).
 */
import { ATTENTION_KERNEL_METADATA, FLEETCHAT_ATTENTION } from '../../common/graph-metadata';
import { floatAttr, intAttr } from '../onnx/attributes';
import { GraphBuilder, OnnxModelSpec } from '../onnx/graph-builder';
import { bytesOf } from '../onnx/tensor-types';
import { quantizeBlocks } from '../quant/block-quant';
import { quantOptionsFor, QuantOptions } from '../quant/nbits-linear';
import { concatRows, getWeight, WeightSource } from '../weights/weight-source';
import { checkWeightsPresent, DECODER_OPSET, DecoderBuildOptions, lastPositions, lmHead, pastKeyName, pastValueName, presentKeyName, presentValueName, PRODUCER_NAME } from './decoder-graph';
import { floatInitializer, projection, vectorWeight, type FloatType } from './decoder-layer';
import { inverseFrequencies } from './decoder-prelude';
import { ValidLlamaConfig } from './llama-config';
import { EMBED_WEIGHT, FINAL_NORM_WEIGHT, layerWeightNames } from './llama-weights';

/** Input names that tell a fused graph from a standard one. */
export const SEQLENS_INPUT = 'seqlens_k';
export const TOTAL_LENGTH_INPUT = 'total_sequence_length';
/** Each position's argmax over the vocabulary (see greedyOutput). */
export const GREEDY_OUTPUT = 'greedy_tokens';
/**
 * The graph kinds the generator and importers write: `fused-mha` is the fused graph for float32 on CUDA, where
 * GroupQueryAttention has no float kernel (see fused-mha-decoder-graph.ts).
 */
export type GraphKind = 'standard' | 'fused' | 'fused-mha';
export const GRAPH_KINDS: readonly GraphKind[] = ['standard', 'fused', 'fused-mha'];
const MS = 'com.microsoft';

/** cos / sin of position × inverse frequency, [maxPositions, headDim / 2] (rotate-half layout, as GQA reads them). */
export function rotaryCaches(headDim: number, ropeTheta: number, maxPositions: number): { cos: Float32Array; sin: Float32Array } {
  const inv = inverseFrequencies(headDim, ropeTheta);
  const half = headDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const f = Math.fround(p * inv[i]);
      cos[p * half + i] = Math.cos(f);
      sin[p * half + i] = Math.sin(f);
    }
  }
  return { cos, sin };
}

/** The token embedding: a plain Gather (float32), or GatherBlockQuantized over blockwise int8 / int4 rows. */
export function embedding(g: GraphBuilder, c: ValidLlamaConfig, weights: WeightSource, inputIds: string, quant: QuantOptions | undefined, float: FloatType): { hidden: string; embed: string } {
  const { vocabSize: v, hiddenSize: h } = c;
  if (quant === undefined || h % quant.blockSize !== 0) {
    const embed = floatInitializer(g, EMBED_WEIGHT, float, [v, h], () => getWeight(weights, EMBED_WEIGHT, [v, h]).data);
    return { hidden: g.op('Gather', [embed, inputIds], { axis: intAttr(0) }), embed };
  }
  // 8-bit rows whatever the linear layers use: a quarter of float32, and no second rounding of an embedding that a
  // GGUF stores with more than 4 bits (SmolLM2's Q8_0).
  const bits = 8;
  let cached: ReturnType<typeof quantizeBlocks> | undefined;
  const q = (): ReturnType<typeof quantizeBlocks> => (cached ??= quantizeBlocks(getWeight(weights, EMBED_WEIGHT, [v, h]).data, v, h, bits, quant.blockSize));
  const blocks = Math.ceil(h / quant.blockSize);
  const rowBytes = blocks * quant.blockSize;
  const data = g.initializer('model.embed_tokens.qweight', 'uint8', [v, rowBytes], () => q().data);
  const scales = g.initializer('model.embed_tokens.scales', 'float32', [v, blocks], () => bytesOf(q().scales));
  const zpCols = blocks;
  const zeros = g.initializer('model.embed_tokens.zero_points', 'uint8', [v, zpCols], () => q().zeroPoints);
  const [hidden] = g.node('GatherBlockQuantized', [data, inputIds, scales, zeros], {
    domain: MS,
    attrs: { gather_axis: intAttr(0), quantize_axis: intAttr(1), block_size: intAttr(quant.blockSize), bits: intAttr(bits) },
  });
  return { hidden, embed: '' };
}

/** What every block of a fused graph reads: the config, the weights and their format. */
export interface FusedBlockContext {
  c: ValidLlamaConfig;
  weights: WeightSource;
  quant: QuantOptions | undefined;
  /** float16 for `--weights fp16`: weights, activations and the KV cache in half precision. */
  float: FloatType;
}

interface FusedContext extends FusedBlockContext {
  seqlens: string;
  total: string;
  cos: string;
  sin: string;
}

/** q|k|v in one projection, [batch, seq, (heads + 2 kvHeads) × headDim] — GroupQueryAttention's packed input. */
export function packedQkv(g: GraphBuilder, ctx: FusedBlockContext, layer: number, xn: string): string {
  const { c, weights } = ctx;
  const n = layerWeightNames(layer);
  const outs = [c.numHeads * c.headDim, c.numKvHeads * c.headDim, c.numKvHeads * c.headDim];
  const spec = { initName: `model.layers.${layer}.self_attn.qkv_proj.weight_t`, names: [n.q, n.k, n.v], outs, inSize: c.hiddenSize };
  const qkv = projection(g, weights, xn, spec, ctx.quant, ctx.float);
  if (!c.attentionBias) return qkv;
  const total = outs[0] + outs[1] + outs[2];
  const bias = floatInitializer(g, `model.layers.${layer}.self_attn.qkv_proj.bias`, ctx.float, [total], () =>
    concatRows([n.qBias, n.kBias, n.vBias].map((name, i) => getWeight(weights, name, [outs[i]]).data)),
  );
  return g.op('Add', [qkv, bias]);
}

function attention(g: GraphBuilder, ctx: FusedContext, layer: number, xn: string): string {
  const { c } = ctx;
  const qkv = packedQkv(g, ctx, layer, xn);
  g.useDomain(MS, 1);
  const [context] = g.node('GroupQueryAttention', [qkv, '', '', pastKeyName(layer), pastValueName(layer), ctx.seqlens, ctx.total, ctx.cos, ctx.sin], {
    domain: MS,
    attrs: { num_heads: intAttr(c.numHeads), kv_num_heads: intAttr(c.numKvHeads), do_rotary: intAttr(1), rotary_interleaved: intAttr(0), scale: floatAttr(1 / Math.sqrt(c.headDim)) },
    outputs: [`/model/layers.${layer}/attn/output`, presentKeyName(layer), presentValueName(layer)],
  });
  const n = layerWeightNames(layer);
  const wo = { initName: `model.layers.${layer}.self_attn.o_proj.weight_t`, names: [n.o], outs: [c.hiddenSize], inSize: c.numHeads * c.headDim };
  return projection(g, ctx.weights, context, wo, ctx.quant, ctx.float);
}

function mlp(g: GraphBuilder, ctx: FusedBlockContext, layer: number, xn: string): string {
  const { c } = ctx;
  const n = layerWeightNames(layer);
  const i = c.intermediateSize;
  const wgu = { initName: `model.layers.${layer}.mlp.gate_up_proj.weight_t`, names: [n.gate, n.up], outs: [i, i], inSize: c.hiddenSize };
  const [gate, up] = g.node('Split', [projection(g, ctx.weights, xn, wgu, ctx.quant, ctx.float), g.int64s([i, i])], { attrs: { axis: intAttr(-1) }, outputs: 2 });
  const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
  const wd = { initName: `model.layers.${layer}.mlp.down_proj.weight_t`, names: [n.down], outs: [c.hiddenSize], inSize: i };
  return projection(g, ctx.weights, g.op('Mul', [silu, up]), wd, ctx.quant, ctx.float);
}

/** RMSNorm of (x + skip): returns the normed value and the sum (the next residual). */
function skipNorm(g: GraphBuilder, ctx: FusedBlockContext, x: string, skip: string, weight: string): { normed: string; sum: string } {
  const base = `${g.prefix}/SkipSimplifiedLayerNorm`;
  const [normed, , , sum] = g.node('SkipSimplifiedLayerNormalization', [x, skip, weight], {
    domain: MS,
    attrs: { epsilon: floatAttr(ctx.c.rmsNormEps) },
    outputs: [`${base}/output_0`, `${base}/mean`, `${base}/inv_std_var`, `${base}/input_skip_sum`],
  });
  return { normed, sum };
}

/**
 * The decoder layers of a fused graph after the embedding, then the final norm and the lm_head: RMSNorms fused with
 * the residual adds, the MLP, and `attention` (which returns the o_proj output of layer `layer` for its normed input).
 */
export function fusedLayers(g: GraphBuilder, ctx: FusedBlockContext, io: { hidden: string; embed: string; keepLogits: string }, attention: (layer: number, xn: string) => string): string {
  const { c, weights, quant, float } = ctx;
  const { hidden, embed, keepLogits } = io;
  let residual = hidden;
  let pending: string | undefined; // the previous block's output, not yet added to the residual
  for (let layer = 0; layer < c.numLayers; layer++) {
    const n = layerWeightNames(layer);
    g.prefix = `/model/layers.${layer}/input_layernorm`;
    const inNorm = vectorWeight(g, weights, n.inputNorm, c.hiddenSize, float);
    let attnIn: string;
    if (pending === undefined) {
      attnIn = g.op('SimplifiedLayerNormalization', [residual, inNorm], { axis: intAttr(-1), epsilon: floatAttr(c.rmsNormEps), stash_type: intAttr(1) });
    } else {
      const s = skipNorm(g, ctx, pending, residual, inNorm);
      attnIn = s.normed;
      residual = s.sum;
    }
    g.prefix = `/model/layers.${layer}/attn`;
    const attnOut = attention(layer, attnIn);
    g.prefix = `/model/layers.${layer}/post_attention_layernorm`;
    const post = skipNorm(g, ctx, attnOut, residual, vectorWeight(g, weights, n.postNorm, c.hiddenSize, float));
    residual = post.sum;
    g.prefix = `/model/layers.${layer}/mlp`;
    pending = mlp(g, ctx, layer, post.normed);
  }
  g.prefix = '/model/norm';
  const final = skipNorm(g, ctx, pending ?? residual, residual, vectorWeight(g, weights, FINAL_NORM_WEIGHT, c.hiddenSize, float));
  g.prefix = '/lm_head';
  return lmHead(g, c, weights, { hidden: lastPositions(g, final.normed, keepLogits), embed, quant, float });
}

/**
 * greedy_tokens: each position's argmax over the vocabulary as the index of TopK(k = 1) — not ArgMax, whose CUDA kernel
 * reduces through cuDNN, a library the GPU runtime installs only on request. Ties: the lower index (TopK's rule).
 */
export function greedyOutput(g: GraphBuilder, logits: string): void {
  const [, index] = g.node('TopK', [logits, g.int64s([1])], { attrs: { axis: intAttr(-1), largest: intAttr(1), sorted: intAttr(1) }, outputs: 2 });
  g.op('Squeeze', [index, g.int64s([-1])], undefined, GREEDY_OUTPUT);
}

export function buildFusedLlamaDecoder(config: ValidLlamaConfig, weights: WeightSource, options: DecoderBuildOptions = {}): OnnxModelSpec {
  checkWeightsPresent(config, weights);
  const c = config;
  const g = new GraphBuilder('llama_decoder_fused', DECODER_OPSET);
  g.useDomain(MS, 1);
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const seqlens = g.input(SEQLENS_INPUT, 'int32', ['batch_size']);
  const total = g.input(TOTAL_LENGTH_INPUT, 'int32', []);
  const keepLogits = g.input('num_logits_to_keep', 'int64', []);
  const kvDims = ['batch_size', c.numKvHeads, 'max_cache_length', c.headDim];
  const float: FloatType = options.weightFormat === 'fp16' ? 'float16' : 'float32';
  const cache: FloatType = options.kvCache === 'fp16' ? 'float16' : float;
  for (let layer = 0; layer < c.numLayers; layer++) {
    g.input(pastKeyName(layer), cache, kvDims);
    g.input(pastValueName(layer), cache, kvDims);
  }
  g.output('logits', 'float32', ['batch_size', 'num_logits', c.vocabSize]);
  g.output(GREEDY_OUTPUT, 'int64', ['batch_size', 'num_logits']);
  for (let layer = 0; layer < c.numLayers; layer++) {
    g.output(presentKeyName(layer), cache, kvDims);
    g.output(presentValueName(layer), cache, kvDims);
  }
  const quant = quantOptionsFor(options.weightFormat ?? 'fp32', options.accuracyLevel);
  g.prefix = '/model/embed_tokens';
  const { hidden, embed } = embedding(g, c, weights, inputIds, quant, float);
  const half = c.headDim / 2;
  const tables = rotaryCaches(c.headDim, c.ropeTheta, c.maxPositionEmbeddings);
  const ctx: FusedContext = {
    c,
    weights,
    quant,
    float,
    seqlens,
    total,
    cos: floatInitializer(g, 'rope.cos_cache', float, [c.maxPositionEmbeddings, half], () => tables.cos),
    sin: floatInitializer(g, 'rope.sin_cache', float, [c.maxPositionEmbeddings, half], () => tables.sin),
  };
  const logits = fusedLayers(g, ctx, { hidden, embed, keepLogits }, (layer, xn) => attention(g, ctx, layer, xn));
  greedyOutput(g, logits);
  const ours: Record<string, string> = cache !== float ? { [ATTENTION_KERNEL_METADATA]: FLEETCHAT_ATTENTION } : {};
  return g.build(PRODUCER_NAME, options.producerVersion ?? '0', { ...options.metadata, ...ours });
}
