/**
 * The parts of the decoder graph that every layer shares: the additive attention bias built from
 * `attention_mask` (causal + padding) and the rotary-embedding tables built from `position_ids`.
 */
import { intAttr } from '../onnx/attributes';
import { GraphBuilder } from '../onnx/graph-builder';
import { TensorProto_DataType } from '../onnx/onnx';

/** The most negative finite float32, as Hugging Face uses: -Infinity would turn fully masked rows into NaN. */
export const MASK_MIN_FLOAT32 = -3.4028234663852886e38;

/**
 * Additive attention bias of shape [batch, 1, 1, seq, total] (broadcast over kv heads and the query heads of a
 * group). Key slot j is visible to query i (which sits at slot past + i) when j <= past + i and
 * attention_mask[b, j] = 1. Slots are in time order, so left padding, padding of different lengths per row, and
 * left-padded past caches all work; a query with no visible key (a padding slot) attends uniformly instead of NaN.
 */
export function attentionBias(g: GraphBuilder, attentionMask: string, inputIds: string): string {
  const one = g.int64s([1], []);
  const total = g.op('Gather', [g.op('Shape', [attentionMask]), one], { axis: intAttr(0) });
  const seq = g.op('Gather', [g.op('Shape', [inputIds]), one], { axis: intAttr(0) });
  const past = g.op('Sub', [total, seq]);
  const keySlots = g.op('Range', [g.int64s([0], []), total, one]);
  const querySlots = g.op('Unsqueeze', [g.op('Range', [past, total, one]), g.int64s([1])]);
  const causal = g.op('LessOrEqual', [keySlots, querySlots]);
  const present = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: intAttr(TensorProto_DataType.BOOL) }), g.int64s([1, 2])]);
  const visible = g.op('And', [causal, present]);
  const bias = g.op('Where', [visible, g.float32s([0], []), g.float32s([MASK_MIN_FLOAT32], [])]);
  return g.op('Unsqueeze', [bias, g.int64s([1])]);
}

export interface RotaryTables {
  /** [batch, 1, seq, headDim]: for keys laid out [batch, kvHeads, seq, headDim]. */
  cos4: string;
  sin4: string;
  /** [batch, 1, 1, seq, headDim]: for queries laid out [batch, kvHeads, groupSize, seq, headDim]. */
  cos5: string;
  sin5: string;
}

/** inv_freq[i] = theta^(-2i / headDim), computed as Hugging Face does (float32). */
export function inverseFrequencies(headDim: number, ropeTheta: number): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / Math.pow(ropeTheta, (2 * i) / headDim));
}

/**
 * Rotary tables for rotate-half RoPE: cos = [cos(f), cos(f)] and a signed sin = [-sin(f), sin(f)], so that
 * rope(x) = x * cos + swapHalves(x) * signedSin equals x * cos + rotate_half(x) * sin.
 */
export function rotaryTables(g: GraphBuilder, positionIds: string, headDim: number, ropeTheta: number): RotaryTables {
  const invFreq = g.initializer('rope.inv_freq', 'float32', [headDim / 2], inverseFrequencies(headDim, ropeTheta));
  const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: intAttr(TensorProto_DataType.FLOAT) }), g.int64s([2])]);
  const freqs = g.op('Mul', [positions, invFreq]);
  const cosHalf = g.op('Cos', [freqs]);
  const sinHalf = g.op('Sin', [freqs]);
  const cos = g.op('Concat', [cosHalf, cosHalf], { axis: intAttr(-1) });
  const sin = g.op('Concat', [g.op('Neg', [sinHalf]), sinHalf], { axis: intAttr(-1) });
  const axes1 = g.int64s([1]);
  const axes12 = g.int64s([1, 2]);
  return {
    cos4: g.op('Unsqueeze', [cos, axes1]),
    sin4: g.op('Unsqueeze', [sin, axes1]),
    cos5: g.op('Unsqueeze', [cos, axes12]),
    sin5: g.op('Unsqueeze', [sin, axes12]),
  };
}

/** Applies rotate-half RoPE to x (last axis headDim) with tables of matching rank. */
export function applyRotary(g: GraphBuilder, x: string, cos: string, signedSin: string, headDim: number): string {
  const half = g.int64s([headDim / 2, headDim / 2]);
  const [first, second] = g.node('Split', [x, half], { attrs: { axis: intAttr(-1) }, outputs: 2 });
  const swapped = g.op('Concat', [second, first], { axis: intAttr(-1) });
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [swapped, signedSin])]);
}

