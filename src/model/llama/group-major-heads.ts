/**
 * groupMajorQueryHeads: the same model with its query heads stored group-major, for the fused-mha graph
 * (fused-mha-decoder-graph.ts). The model's head h = j × group + g (KV head j, g-th of its group) becomes head
 * g × kvHeads + j: q_proj's output rows (and bias) and o_proj's input columns are permuted alike, so the layer computes
 * the same function, and a [.., heads × headDim] query reshapes to [.., group, kvHeads × headDim] — each group of
 * query heads side by side with the KV head it reads.
 */
import type { WeightSource, WeightTensor } from '../weights/weight-source';
import { ValidLlamaConfig } from './llama-config';
import { layerWeightNames } from './llama-weights';

/** For each new head index, the model's head it holds. */
function groupMajorOrder(numHeads: number, numKvHeads: number): number[] {
  const group = numHeads / numKvHeads;
  const order: number[] = [];
  for (let g = 0; g < group; g++) for (let j = 0; j < numKvHeads; j++) order.push(j * group + g);
  return order;
}

/** Rows of `rowWidth` values in `order` (a q_proj weight [heads × headDim, in] or its bias, per head). */
function permuteHeadRows(data: Float32Array, order: readonly number[], rowsPerHead: number, rowWidth: number): Float32Array {
  const out = new Float32Array(data.length);
  const block = rowsPerHead * rowWidth;
  order.forEach((from, to) => out.set(data.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/** Columns of an [out, heads × headDim] matrix (o_proj's weight) in head `order`. */
function permuteHeadColumns(data: Float32Array, order: readonly number[], headDim: number, rows: number): Float32Array {
  const width = order.length * headDim;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const row = r * width;
    order.forEach((from, to) => out.set(data.subarray(row + from * headDim, row + (from + 1) * headDim), row + to * headDim));
  }
  return out;
}

class GroupMajorSource implements WeightSource {
  private readonly order: number[];
  private readonly rows = new Set<string>();
  private readonly columns = new Set<string>();

  constructor(private readonly config: ValidLlamaConfig, private readonly inner: WeightSource) {
    this.order = groupMajorOrder(config.numHeads, config.numKvHeads);
    for (let layer = 0; layer < config.numLayers; layer++) {
      const n = layerWeightNames(layer);
      this.rows.add(n.q).add(n.qBias);
      this.columns.add(n.o);
    }
  }

  has(name: string): boolean {
    return this.inner.has(name);
  }

  get(name: string): WeightTensor {
    const tensor = this.inner.get(name);
    const { headDim, numHeads } = this.config;
    // a tensor of another size is left as it is, for getWeight to report its shape
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    const width = numHeads * headDim;
    if (count !== tensor.data.length || tensor.shape.length > 2) return tensor;
    if (this.rows.has(name) && tensor.shape[0] === width) {
      const rowWidth = tensor.shape.length === 2 ? tensor.shape[1] : 1;
      return { shape: tensor.shape, data: permuteHeadRows(tensor.data, this.order, headDim, rowWidth) };
    }
    if (this.columns.has(name) && tensor.shape.length === 2 && tensor.shape[1] === width) return { shape: tensor.shape, data: permuteHeadColumns(tensor.data, this.order, headDim, tensor.shape[0]) };
    return tensor;
  }
}

/** `source` with group-major query heads; `source` itself when every query head has its own KV head. */
export function groupMajorQueryHeads(config: ValidLlamaConfig, source: WeightSource): WeightSource {
  return config.numHeads === config.numKvHeads ? source : new GroupMajorSource(config, source);
}
