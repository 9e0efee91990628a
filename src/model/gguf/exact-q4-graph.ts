/**
 * int4 graphs that compute with the GGUF's own 4-bit weights instead of re-quantising their dequantised values.
 * The decoder builder writes every linear layer as a MatMulNBits node (4 bits, blocks of 32) whose weights it
 * quantises itself; for each such layer whose parts are all Q4_0 / Q4_1 / Q4_K in the GGUF, this rewrite
 *   - replaces the node's packed weights and scales by the GGUF blocks (unpermuted like the float path) with zero
 *     points 0, so MatMulNBits computes sum(scale * q * x), and
 *   - adds the blocks' offsets: y += (x summed per block of 32) @ mins, with mins [K / 32, N]
 *     (Reshape -> ReduceSum -> MatMul -> Add),
 * which is exactly sum((scale * q + min) * x) — the GGUF's values. Layers the GGUF stores with more bits (the
 * Q8_0 embedding that SmolLM2 ties to its lm_head, Q6_K layers of Q4_K_M files) become 8-bit MatMulNBits blocks
 * rather than being rounded a second time to 4 bits.
 */
import { intAttr, toAttributeProto } from '../onnx/attributes';
import type { OnnxModelSpec } from '../onnx/graph-builder';
import { NodeProto } from '../onnx/onnx';
import { bytesOf, type InitializerSpec } from '../onnx/tensor-types';
import { quantizeBlocks } from '../quant/block-quant';
import { concatRows, getWeight, type WeightSource } from '../weights/weight-source';
import { EMBED_WEIGHT, layerWeightNames, LM_HEAD_WEIGHT } from '../llama/llama-weights';
import type { GgufFile } from './gguf-file';
import type { GgufLlamaModel } from './gguf-llama';
import { isQ4Type, Q4_BLOCK, q4Rows, type Q4Rows } from './q4-blocks';

export interface Q4RewriteReport {
  /** Linear layers now computing with the GGUF's blocks. */
  exact: string[];
  /** Linear layers the GGUF stores with more bits (some part is not a 4-bit type): 8-bit blocks. */
  widened: string[];
}

interface Part {
  hfName: string;
  rows: number;
  /** Heads whose rows llama.cpp interleaved for RoPE (q / k of `llama` models); 0 = none. */
  ropeHeads: number;
}

/** The Hugging Face matrices stacked in a MatMulNBits layer, recognised from the builder's initializer names. */
function partsOf(base: string, model: GgufLlamaModel): Part[] | undefined {
  const c = model.config;
  const interleaved = model.arch.ropeLayout === 'interleaved';
  if (base === 'lm_head.weight') return [{ hfName: c.tieWordEmbeddings ? EMBED_WEIGHT : LM_HEAD_WEIGHT, rows: c.vocabSize, ropeHeads: 0 }];
  const m = /^model\.layers\.(\d+)\.(self_attn\.qkv_proj|self_attn\.o_proj|mlp\.gate_up_proj|mlp\.down_proj)\.weight_t$/.exec(base);
  if (m === null) return undefined;
  const n = layerWeightNames(Number(m[1]));
  const { headDim: d, numHeads: nh, numKvHeads: nkv } = c;
  switch (m[2]) {
    case 'self_attn.qkv_proj':
      return [
        { hfName: n.q, rows: nh * d, ropeHeads: interleaved ? nh : 0 },
        { hfName: n.k, rows: nkv * d, ropeHeads: interleaved ? nkv : 0 },
        { hfName: n.v, rows: nkv * d, ropeHeads: 0 },
      ];
    case 'self_attn.o_proj':
      return [{ hfName: n.o, rows: c.hiddenSize, ropeHeads: 0 }];
    case 'mlp.gate_up_proj':
      return [{ hfName: n.gate, rows: c.intermediateSize, ropeHeads: 0 }, { hfName: n.up, rows: c.intermediateSize, ropeHeads: 0 }];
    default:
      return [{ hfName: n.down, rows: c.hiddenSize, ropeHeads: 0 }];
  }
}

/** GGUF row of Hugging Face row `r` of a q/k matrix whose rows llama.cpp interleaved (see rope-permutation.ts). */
function ggufRow(r: number, headDim: number): number {
  const half = headDim / 2;
  const head = Math.floor(r / headDim);
  const within = r % headDim;
  const j = within < half ? 0 : 1;
  const i = within - j * half;
  return head * headDim + 2 * i + j;
}

/** The stacked blocks of a layer, rows in Hugging Face order. */
function fusedBlocks(file: GgufFile, model: GgufLlamaModel, parts: Part[], cols: number): Q4Rows {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const blocksPerRow = cols / Q4_BLOCK;
  const out: Q4Rows = { rows, blocksPerRow, data: new Uint8Array(rows * blocksPerRow * 16), scales: new Float32Array(rows * blocksPerRow), mins: new Float32Array(rows * blocksPerRow) };
  let at = 0;
  for (const p of parts) {
    const g = model.tensorNames.get(p.hfName) as string;
    const info = file.tensors.get(g);
    if (info === undefined) throw new Error(`tensor ${g} vanished`);
    const src = q4Rows(file.readRaw(g), info.type, p.rows, cols, g);
    for (let r = 0; r < p.rows; r++) {
      const from = p.ropeHeads > 0 ? ggufRow(r, model.config.headDim) : r;
      out.data.set(src.data.subarray(from * blocksPerRow * 16, (from + 1) * blocksPerRow * 16), (at + r) * blocksPerRow * 16);
      out.scales.set(src.scales.subarray(from * blocksPerRow, (from + 1) * blocksPerRow), (at + r) * blocksPerRow);
      out.mins.set(src.mins.subarray(from * blocksPerRow, (from + 1) * blocksPerRow), (at + r) * blocksPerRow);
    }
    at += p.rows;
  }
  return out;
}

/** [rows, blocks] -> [blocks, rows]. */
function transposedMins(b: Q4Rows): Float32Array {
  const out = new Float32Array(b.mins.length);
  for (let r = 0; r < b.rows; r++) for (let k = 0; k < b.blocksPerRow; k++) out[k * b.rows + r] = b.mins[r * b.blocksPerRow + k];
  return out;
}

function intAttribute(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? undefined : Number(a.i);
}

function int64Init(name: string, values: number[]): InitializerSpec {
  return { name, elemType: 'int64', dims: [values.length], load: () => bytesOf(BigInt64Array.from(values.map(BigInt))) };
}

interface Layer {
  node: NodeProto;
  base: string;
  k: number;
  n: number;
  parts: Part[];
}

/** A MatMulNBits node of the builder, with the Hugging Face matrices it stacks (undefined for anything else). */
function layerOf(node: NodeProto, model: GgufLlamaModel): Layer | undefined {
  if (node.opType !== 'MatMulNBits' || node.domain !== 'com.microsoft') return undefined;
  const base = node.input[1].replace(/\.q4$/, '');
  const parts = partsOf(base, model);
  const k = intAttribute(node, 'K') ?? 0;
  if (parts === undefined || intAttribute(node, 'bits') !== 4 || intAttribute(node, 'block_size') !== Q4_BLOCK || k % Q4_BLOCK !== 0 || node.input.length < 4) return undefined;
  return { node, base, k, n: parts.reduce((s, p) => s + p.rows, 0), parts };
}

/** Loaders that share one computation, dropped after its last use (each initializer is loaded once). */
function shared<T>(uses: number, compute: () => T): () => T {
  let value: T | undefined;
  let left = uses;
  return () => {
    value ??= compute();
    const v = value;
    if (--left === 0) value = undefined;
    return v;
  };
}

/** Exact 4-bit blocks plus the Reshape -> ReduceSum -> MatMul -> Add offset term; returns the added nodes. */
function exactLayer(layer: Layer, file: GgufFile, model: GgufLlamaModel, out: { replace: Map<string, InitializerSpec>; after: Map<string, InitializerSpec>; constants: Map<string, InitializerSpec> }): NodeProto[] {
  const { node, base, k, n } = layer;
  const [x, wName, scalesName, zpName] = node.input;
  const get = shared(4, () => fusedBlocks(file, model, layer.parts, k));
  const blocks = k / Q4_BLOCK;
  out.replace.set(wName, { name: wName, elemType: 'uint8', dims: [n, blocks, 16], load: () => get().data });
  out.replace.set(scalesName, { name: scalesName, elemType: 'float32', dims: [n * blocks], load: () => bytesOf(get().scales) });
  out.replace.set(zpName, { name: zpName, elemType: 'uint8', dims: [n * Math.ceil(blocks / 2)], load: () => (get(), new Uint8Array(n * Math.ceil(blocks / 2))) });
  const minsName = `${base}.block_mins`;
  out.after.set(zpName, { name: minsName, elemType: 'float32', dims: [blocks, n], load: () => bytesOf(transposedMins(get())) });
  const shapeName = `gguf.q4.block_shape_${k}`;
  out.constants.set(shapeName, int64Init(shapeName, [0, 0, blocks, Q4_BLOCK]));
  out.constants.set('gguf.q4.last_axis', int64Init('gguf.q4.last_axis', [-1]));
  const y = node.output[0];
  node.output = [`${y}/scaled_q`];
  const mk = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []): NodeProto =>
    NodeProto.fromPartial({ name: `${output}/${opType}`, opType, domain: '', input, output: [output], attribute });
  return [
    mk('Reshape', [x, shapeName], `${y}/blocks`),
    mk('ReduceSum', [`${y}/blocks`, 'gguf.q4.last_axis'], `${y}/block_sums`, [toAttributeProto('keepdims', intAttr(0))]),
    mk('MatMul', [`${y}/block_sums`, minsName], `${y}/block_offsets`),
    mk('Add', [`${y}/scaled_q`, `${y}/block_offsets`], y),
  ];
}

/** A layer stored with more than 4 bits in the GGUF: 8-bit MatMulNBits blocks of its dequantised values. */
function widenLayer(layer: Layer, weights: WeightSource, replace: Map<string, InitializerSpec>): void {
  const { node, k, n } = layer;
  const [, wName, scalesName, zpName] = node.input;
  const blocks = k / Q4_BLOCK;
  const get = shared(3, () => {
    const parts = layer.parts.map((p) => getWeight(weights, p.hfName, [p.rows, k]).data);
    return quantizeBlocks(parts.length === 1 ? parts[0] : concatRows(parts), n, k, 8, Q4_BLOCK);
  });
  replace.set(wName, { name: wName, elemType: 'uint8', dims: [n, blocks, Q4_BLOCK], load: () => get().data });
  replace.set(scalesName, { name: scalesName, elemType: 'float32', dims: [n * blocks], load: () => bytesOf(get().scales) });
  replace.set(zpName, { name: zpName, elemType: 'uint8', dims: [n * blocks], load: () => get().zeroPoints });
  node.attribute = node.attribute.map((a) => (a.name === 'bits' ? toAttributeProto('bits', intAttr(8)) : a));
}

/**
 * Rewrites the builder's int4 graph in place, before it is written: layers whose parts are all Q4_0 / Q4_1 / Q4_K
 * compute with the GGUF's blocks (exact); layers the GGUF stores with more bits (Q8_0, Q6_K, F16, ...) get 8-bit
 * blocks instead of a lossy second quantisation to 4 bits.
 */
export function useGgufQ4Blocks(spec: OnnxModelSpec, file: GgufFile, model: GgufLlamaModel, weights: WeightSource): Q4RewriteReport {
  const report: Q4RewriteReport = { exact: [], widened: [] };
  const io = { replace: new Map<string, InitializerSpec>(), after: new Map<string, InitializerSpec>(), constants: new Map<string, InitializerSpec>() };
  const nodes: NodeProto[] = [];
  for (const node of spec.graph.node) {
    nodes.push(node);
    const layer = layerOf(node, model);
    if (layer === undefined) continue;
    const allQ4 = layer.parts.every((p) => isQ4Type(file.tensors.get(model.tensorNames.get(p.hfName) ?? '')?.type ?? -1));
    if (allQ4) {
      nodes.push(...exactLayer(layer, file, model, io));
      report.exact.push(layer.base);
    } else {
      widenLayer(layer, weights, io.replace);
      report.widened.push(layer.base);
    }
  }
  spec.graph.node = nodes;
  const ordered: InitializerSpec[] = [];
  for (const init of spec.initializers) {
    ordered.push(io.replace.get(init.name) ?? init);
    const mins = io.after.get(init.name);
    if (mins !== undefined) ordered.push(mins);
  }
  spec.initializers = [...ordered, ...io.constants.values()];
  return report;
}
