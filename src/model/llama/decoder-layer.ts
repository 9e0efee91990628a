/** One LLaMA decoder layer as ONNX nodes: RMSNorm, GQA self-attention with RoPE and a KV cache, SwiGLU MLP. */
import { intAttr, intsAttr } from '../onnx/attributes';
import { GraphBuilder } from '../onnx/graph-builder';
import { float32ToFloat16 } from '../onnx/float16';
import { bytesOf } from '../onnx/tensor-types';
import { concatRows, getWeight, transpose2d, WeightSource } from '../weights/weight-source';
import { ValidLlamaConfig } from './llama-config';
import { layerWeightNames } from './llama-weights';
import { applyRotary, RotaryTables } from './decoder-prelude';
import { nbitsLinear, QuantOptions } from '../quant/nbits-linear';

/** RMSNorm in the node pattern onnxruntime fuses into SimplifiedLayerNormalization: Pow, ReduceMean, Add, Sqrt, Div, Mul. */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.float32s([2], [])])], { axes: intsAttr([-1]), keepdims: intAttr(1) });
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.float32s([eps], [])])]);
  return g.op('Mul', [g.op('Div', [x, rms]), weight]);
}

/** The floating-point type of a graph's weights and activations (float16: the fused graph's `--weights fp16`). */
export type FloatType = 'float32' | 'float16';

/** A floating-point initializer, its float32 values converted to float16 when the graph is half precision. */
export function floatInitializer(g: GraphBuilder, name: string, float: FloatType, dims: readonly number[], load: () => Float32Array): string {
  return g.initializer(name, float, dims, () => bytesOf(float === 'float16' ? float32ToFloat16(load()) : load()));
}

/** A norm weight vector taken as is. */
export function vectorWeight(g: GraphBuilder, source: WeightSource, name: string, size: number, float: FloatType = 'float32'): string {
  return floatInitializer(g, name, float, [size], () => getWeight(source, name, [size]).data);
}

/**
 * Linear layers that read the same input, fused into one [in, sum(out)] MatMul weight: Hugging Face's [out, in]
 * matrices are stacked along `out`, then transposed.
 */
export interface FusedLinear {
  /** Name of the fused initializer. */
  initName: string;
  /** Hugging Face names of the [out, in] matrices, in output order. */
  names: readonly string[];
  outs: readonly number[];
  inSize: number;
}

export function fusedLinearWeight(g: GraphBuilder, source: WeightSource, { initName, names, outs, inSize }: FusedLinear, float: FloatType = 'float32'): string {
  const total = outs.reduce((a, b) => a + b, 0);
  return floatInitializer(g, initName, float, [inSize, total], () => {
    const parts = names.map((n, i) => getWeight(source, n, [outs[i], inSize]).data);
    return transpose2d(parts.length === 1 ? parts[0] : concatRows(parts), total, inSize);
  });
}

/** x @ W^T for stacked Hugging Face linear layers: float32 MatMul, or MatMulNBits when quantising. */
export function projection(g: GraphBuilder, source: WeightSource, x: string, layer: FusedLinear, quant: QuantOptions | undefined, float: FloatType = 'float32'): string {
  if (quant !== undefined) return nbitsLinear(g, source, x, layer, quant);
  return g.op('MatMul', [x, fusedLinearWeight(g, source, layer, float)]);
}

export interface LayerIo {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

export interface LayerContext {
  config: ValidLlamaConfig;
  weights: WeightSource;
  rotary: RotaryTables;
  /** [batch, 1, 1, seq, total] additive bias. */
  bias: string;
  /** Quantised linear layers (MatMulNBits), or undefined for float32. */
  quant?: QuantOptions;
}

function qkvProjection(g: GraphBuilder, ctx: LayerContext, layer: number, xn: string): string[] {
  const c = ctx.config;
  const n = layerWeightNames(layer);
  const outs = [c.numHeads * c.headDim, c.numKvHeads * c.headDim, c.numKvHeads * c.headDim];
  const spec = { initName: `model.layers.${layer}.self_attn.qkv_proj.weight_t`, names: [n.q, n.k, n.v], outs, inSize: c.hiddenSize };
  let qkv = projection(g, ctx.weights, xn, spec, ctx.quant);
  if (c.attentionBias) {
    const total = outs[0] + outs[1] + outs[2];
    const bias = g.initializer(`model.layers.${layer}.self_attn.qkv_proj.bias`, 'float32', [total], () =>
      bytesOf(concatRows([n.qBias, n.kBias, n.vBias].map((name, i) => getWeight(ctx.weights, name, [outs[i]]).data))),
    );
    qkv = g.op('Add', [qkv, bias]);
  }
  return g.node('Split', [qkv, g.int64s(outs)], { attrs: { axis: intAttr(-1) }, outputs: 3 });
}

/**
 * Grouped-query attention without repeating the cache: queries are viewed as [batch, kvHeads, groupSize, seq, dim]
 * and keys / values as [batch, kvHeads, 1, total, dim], so MatMul broadcasts each kv head over its query group.
 */
function selfAttention(g: GraphBuilder, ctx: LayerContext, layer: number, xn: string, io: LayerIo): string {
  const c = ctx.config;
  const group = c.numHeads / c.numKvHeads;
  const [q, k, v] = qkvProjection(g, ctx, layer, xn);
  const q5 = g.op('Transpose', [g.op('Reshape', [q, g.int64s([0, 0, c.numKvHeads, group, c.headDim])])], { perm: intsAttr([0, 2, 3, 1, 4]) });
  const kvShape = g.int64s([0, 0, c.numKvHeads, c.headDim]);
  const k4 = g.op('Transpose', [g.op('Reshape', [k, kvShape])], { perm: intsAttr([0, 2, 1, 3]) });
  const v4 = g.op('Transpose', [g.op('Reshape', [v, kvShape])], { perm: intsAttr([0, 2, 1, 3]) });
  const qRot = applyRotary(g, q5, ctx.rotary.cos5, ctx.rotary.sin5, c.headDim);
  const kRot = applyRotary(g, k4, ctx.rotary.cos4, ctx.rotary.sin4, c.headDim);
  const keys = g.op('Concat', [io.pastKey, kRot], { axis: intAttr(2) }, io.presentKey);
  const values = g.op('Concat', [io.pastValue, v4], { axis: intAttr(2) }, io.presentValue);
  const axis2 = g.int64s([2]);
  const keysT = g.op('Unsqueeze', [g.op('Transpose', [keys], { perm: intsAttr([0, 1, 3, 2]) }), axis2]);
  const qScaled = g.op('Mul', [qRot, g.float32s([1 / Math.sqrt(c.headDim)], [])]);
  const scores = g.op('Add', [g.op('MatMul', [qScaled, keysT]), ctx.bias]);
  const probs = g.op('Softmax', [scores], { axis: intAttr(-1) });
  const context = g.op('MatMul', [probs, g.op('Unsqueeze', [values, axis2])]);
  const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: intsAttr([0, 3, 1, 2, 4]) }), g.int64s([0, 0, c.numHeads * c.headDim])]);
  const n = layerWeightNames(layer);
  const wo = { initName: `model.layers.${layer}.self_attn.o_proj.weight_t`, names: [n.o], outs: [c.hiddenSize], inSize: c.numHeads * c.headDim };
  return projection(g, ctx.weights, merged, wo, ctx.quant);
}

/** SwiGLU: down(silu(gate(x)) * up(x)), with gate and up fused into one MatMul. */
function mlp(g: GraphBuilder, ctx: LayerContext, layer: number, xn: string): string {
  const c = ctx.config;
  const n = layerWeightNames(layer);
  const i = c.intermediateSize;
  const wgu = { initName: `model.layers.${layer}.mlp.gate_up_proj.weight_t`, names: [n.gate, n.up], outs: [i, i], inSize: c.hiddenSize };
  const [gate, up] = g.node('Split', [projection(g, ctx.weights, xn, wgu, ctx.quant), g.int64s([i, i])], { attrs: { axis: intAttr(-1) }, outputs: 2 });
  const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
  const wd = { initName: `model.layers.${layer}.mlp.down_proj.weight_t`, names: [n.down], outs: [c.hiddenSize], inSize: i };
  return projection(g, ctx.weights, g.op('Mul', [silu, up]), wd, ctx.quant);
}

/** x + attn(norm(x)), then + mlp(norm(.)); returns the layer's output hidden states. */
export function decoderLayer(g: GraphBuilder, ctx: LayerContext, layer: number, x: string, io: LayerIo): string {
  const c = ctx.config;
  const n = layerWeightNames(layer);
  g.prefix = `/model/layers.${layer}/self_attn`;
  const attnIn = rmsNorm(g, x, vectorWeight(g, ctx.weights, n.inputNorm, c.hiddenSize), c.rmsNormEps);
  const afterAttn = g.op('Add', [x, selfAttention(g, ctx, layer, attnIn, io)]);
  g.prefix = `/model/layers.${layer}/mlp`;
  const mlpIn = rmsNorm(g, afterAttn, vectorWeight(g, ctx.weights, n.postNorm, c.hiddenSize), c.rmsNormEps);
  return g.op('Add', [afterAttn, mlp(g, ctx, layer, mlpIn)]);
}

