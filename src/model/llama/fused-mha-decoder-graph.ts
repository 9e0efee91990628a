/**
 * buildFusedMhaLlamaDecoder (graph kind `fused-mha`): the fused decoder for float32 on CUDA. onnxruntime's CUDA
 * GroupQueryAttention has no float32 kernel, so attention here is the standard ONNX `Attention` (opset 24) over a KV
 * cache written in place by `TensorScatter` (opset 24); the rest (Skip/SimplifiedLayerNormalization, packed q|k|v and
 * gate|up projections, lm_head, greedy_tokens) is the fused graph's (fused-decoder-graph.ts). Per layer:
 *   q, k, v  = Split(MatMul(x, Wqkv)); RotaryEmbedding (ONNX, opset 23) of q and k at each row's positions;
 *   present  = TensorScatter(past, new k | v, write_indices), in place when the caller binds the same memory as
 *            past_key_values.N.* and present.N.* (no copy of the cache: only the new positions are written);
 *   context  = Attention(q, present, mask, nonpad_kv_seqlen), 3-D [batch, seq, heads × headDim] throughout.
 * Grouped heads as queries: in float32 onnxruntime's CUDA Attention runs grouped KV heads only on its unfused path,
 * whose cost follows the cache capacity, while multi-head attention with per-row key lengths (nonpad_kv_seqlen) runs
 * the memory-efficient kernel, whose cost follows each row's valid length. The graph makes grouped attention
 * multi-head without repeating the cache: the query heads are stored group-major (q_proj's output head
 * g × kvHeads + j is the model's head j × group + g, o_proj's input columns likewise — groupMajorQueryHeads), so
 * q [batch, seq, heads × headDim] reshapes for free to [batch, seq × group, kvHeads × headDim]: each KV head's group
 * of query heads becomes `group` query positions of one head over that KV head's keys, all at their token's position
 * (the causal mask repeats each token's row `group` times). Attention is then kvHeads-head over a cache of kvHeads ×
 * headDim per position — the bytes of GroupQueryAttention's cache — and its context reshapes back the same way.
 * Interface: the fused graph's, so the engine drives both alike (device-kv-pool.ts, fused-step.ts, --cuda-graph):
 *   inputs  input_ids [batch_size, sequence_length] int64, seqlens_k [batch_size] int32 (each row's total length
 *           after this pass, minus 1), total_sequence_length [] int32 (unused here: declared for the common
 *           interface), num_logits_to_keep [] int64,
 *           past_key_values.N.key|value [batch_size, 1, max_cache_length, kvHeads × headDim] float32 — a slot is one
 *           [capacity, kvHeads × headDim] block (positions outermost), which the engine's pool holds as one "KV head"
 *           of kvHeads × headDim (graphs written before the grouped layout held heads × headDim: the engine reads
 *           the width from the graph and runs both);
 *   outputs logits [batch_size, num_logits, vocab] float32, greedy_tokens [batch_size, num_logits] int64,
 *           present.N.key|value (same shape as past: the same buffer).
 * Positions, derived in the graph: a pass writes each row's `sequence_length` new positions from
 * past = max(0, seqlens_k + 1 − sequence_length) (0 for a right-padded prompt group, whose shorter rows have
 * seqlens_k + 1 < sequence_length; the cached length for a continuation or a decode step); a query at position p
 * attends to keys 0..p (one bool mask [batch, 1, seq × group, capacity], built once), and keys beyond a row's
 * nonpad_kv_seqlen = seqlens_k + 1 are skipped. Float32 only (onnxruntime's CUDA kernels for the other formats are
 * the fused graph's).
 */
import { FleetError } from '../../common/errors';
import { floatAttr, intAttr, stringAttr } from '../onnx/attributes';
import { GraphBuilder, OnnxModelSpec } from '../onnx/graph-builder';
import { TensorProto_DataType } from '../onnx/onnx';
import type { WeightSource } from '../weights/weight-source';
import { checkWeightsPresent, DecoderBuildOptions, pastKeyName, pastValueName, presentKeyName, presentValueName, PRODUCER_NAME } from './decoder-graph';
import { floatInitializer, projection } from './decoder-layer';
import { embedding, fusedLayers, GREEDY_OUTPUT, greedyOutput, packedQkv, rotaryCaches, SEQLENS_INPUT, TOTAL_LENGTH_INPUT, type FusedBlockContext } from './fused-decoder-graph';
import { ValidLlamaConfig } from './llama-config';
import { groupMajorQueryHeads } from './group-major-heads';
import { layerWeightNames } from './llama-weights';

/** ONNX Attention with nonpad_kv_seqlen and TensorScatter are opset 24. */
export const FUSED_MHA_OPSET = 24;

interface MhaContext extends FusedBlockContext {
  positionIds: string; // [batch, seq] int64
  writeIndices: string; // [batch] int64: where each row's new positions go
  nonpad: string; // [batch] int64: each row's valid keys after this pass
  mask: string; // [batch, 1, seq × group, capacity] bool, true = attend
  cos: string;
  sin: string;
}

/**
 * Positions, write indices, key lengths and the causal mask of a pass, from seqlens_k and the shapes. Values that come
 * from shapes (sequence length, capacity) live in host memory on the CUDA EP and enter device data only through
 * Range (whose limits it reads on the host): an elementwise op mixing the two would need a copy node, and a graph with
 * copy nodes cannot be captured as a CUDA graph (--cuda-graph).
 */
function passPositions(g: GraphBuilder, inputIds: string, seqlens: string, group: number): Pick<MhaContext, 'positionIds' | 'writeIndices' | 'nonpad' | 'mask'> {
  const zero = g.int64s([0], []);
  const one = g.int64s([1], []);
  const seq = g.op('Gather', [g.op('Shape', [inputIds]), one], { axis: intAttr(0) });
  const offsets = g.op('Range', [zero, seq, one]); // 0 .. seq-1, on the device
  // seq - 1 on the device: the last offset (a Gather; not ReduceMax, whose CUDA kernel reduces through cuDNN, which the
  // GPU runtime installs only on request)
  const last = g.op('Gather', [offsets, g.int64s([-1], [])], { axis: intAttr(0) });
  const lengths = g.op('Cast', [seqlens], { to: intAttr(TensorProto_DataType.INT64) }); // each row's length - 1
  const nonpad = g.op('Add', [lengths, one]);
  const writeIndices = g.op('Max', [g.op('Sub', [lengths, last]), zero]);
  const positionIds = g.op('Add', [g.op('Unsqueeze', [writeIndices, g.int64s([1])]), offsets]);
  const capacity = g.op('Gather', [g.op('Shape', [pastKeyName(0)]), g.int64s([2], [])], { axis: intAttr(0) });
  const keys = g.op('Range', [zero, capacity, one]);
  // each token's position once per query head of a group: [batch, seq × group], token-major (see the file comment)
  const queryPositions = group === 1 ? positionIds : g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [positionIds, g.int64s([2])]), g.int64s([1, 1, group])]), g.int64s([0, -1])]);
  const mask = g.op('LessOrEqual', [keys, g.op('Unsqueeze', [queryPositions, g.int64s([1, 3])])]);
  return { positionIds, writeIndices, nonpad, mask };
}

function rotary(g: GraphBuilder, ctx: MhaContext, x: string, heads: number): string {
  return g.op('RotaryEmbedding', [x, ctx.cos, ctx.sin, ctx.positionIds], { num_heads: intAttr(heads), interleaved: intAttr(0) });
}

/** Writes the new positions into the cache in place and returns the whole cache as [batch, capacity, width]. */
function scatter(g: GraphBuilder, ctx: MhaContext, past: string, present: string, update: string): string {
  const width = ctx.c.numKvHeads * ctx.c.headDim;
  g.node('TensorScatter', [past, g.op('Unsqueeze', [update, g.int64s([1])]), ctx.writeIndices], { attrs: { axis: intAttr(2), mode: stringAttr('linear') }, outputs: [present] });
  return g.op('Reshape', [present, g.int64s([0, -1, width])]);
}

function attention(g: GraphBuilder, ctx: MhaContext, layer: number, xn: string): string {
  const { c } = ctx;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const [qs, ks, vs] = g.node('Split', [packedQkv(g, ctx, layer, xn), g.int64s([q, kv, kv])], { attrs: { axis: intAttr(-1) }, outputs: 3 });
  const keys = scatter(g, ctx, pastKeyName(layer), presentKeyName(layer), rotary(g, ctx, ks, c.numKvHeads));
  const values = scatter(g, ctx, pastValueName(layer), presentValueName(layer), vs);
  // group-major query heads: [batch, seq, heads × headDim] is [batch, seq × group, kvHeads × headDim]
  const queries = g.op('Reshape', [rotary(g, ctx, qs, c.numHeads), g.int64s([0, -1, kv])]);
  const [grouped] = g.node('Attention', [queries, keys, values, ctx.mask, '', '', ctx.nonpad], {
    attrs: { q_num_heads: intAttr(c.numKvHeads), kv_num_heads: intAttr(c.numKvHeads), scale: floatAttr(1 / Math.sqrt(c.headDim)), is_causal: intAttr(0) },
    outputs: [`/model/layers.${layer}/attn/grouped_output`],
  });
  const context = g.op('Reshape', [grouped, g.int64s([0, -1, q])]);
  const n = layerWeightNames(layer);
  const wo = { initName: `model.layers.${layer}.self_attn.o_proj.weight_t`, names: [n.o], outs: [c.hiddenSize], inSize: q };
  return projection(g, ctx.weights, context, wo, ctx.quant, ctx.float);
}

export function buildFusedMhaLlamaDecoder(config: ValidLlamaConfig, source: WeightSource, options: DecoderBuildOptions = {}): OnnxModelSpec {
  if ((options.weightFormat ?? 'fp32') !== 'fp32') {
    throw new FleetError('invalid_request', `the fused-mha graph is float32 only (--weights fp32); for ${options.weightFormat} weights use --graph fused`, { param: 'weights' });
  }
  checkWeightsPresent(config, source);
  const c = config;
  const weights = groupMajorQueryHeads(config, source);
  const g = new GraphBuilder('llama_decoder_fused_mha', FUSED_MHA_OPSET);
  g.useDomain('com.microsoft', 1);
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const seqlens = g.input(SEQLENS_INPUT, 'int32', ['batch_size']);
  g.input(TOTAL_LENGTH_INPUT, 'int32', []);
  const keepLogits = g.input('num_logits_to_keep', 'int64', []);
  const kvDims = ['batch_size', 1, 'max_cache_length', c.numKvHeads * c.headDim];
  for (let layer = 0; layer < c.numLayers; layer++) {
    g.input(pastKeyName(layer), 'float32', kvDims);
    g.input(pastValueName(layer), 'float32', kvDims);
  }
  g.output('logits', 'float32', ['batch_size', 'num_logits', c.vocabSize]);
  g.output(GREEDY_OUTPUT, 'int64', ['batch_size', 'num_logits']);
  for (let layer = 0; layer < c.numLayers; layer++) {
    g.output(presentKeyName(layer), 'float32', kvDims);
    g.output(presentValueName(layer), 'float32', kvDims);
  }
  g.prefix = '/model/embed_tokens';
  const { hidden, embed } = embedding(g, c, weights, inputIds, undefined, 'float32');
  g.prefix = '/model/positions';
  const half = c.headDim / 2;
  const tables = rotaryCaches(c.headDim, c.ropeTheta, c.maxPositionEmbeddings);
  const ctx: MhaContext = {
    c,
    weights,
    quant: undefined,
    float: 'float32',
    ...passPositions(g, inputIds, seqlens, c.numHeads / c.numKvHeads),
    cos: floatInitializer(g, 'rope.cos_cache', 'float32', [c.maxPositionEmbeddings, half], () => tables.cos),
    sin: floatInitializer(g, 'rope.sin_cache', 'float32', [c.maxPositionEmbeddings, half], () => tables.sin),
  };
  const logits = fusedLayers(g, ctx, { hidden, embed, keepLogits }, (layer, xn) => attention(g, ctx, layer, xn));
  greedyOutput(g, logits);
  return g.build(PRODUCER_NAME, options.producerVersion ?? '0', options.metadata ?? {});
}
