/**
 * Where a model builder gets its weights: by Hugging Face tensor name (`model.layers.0.self_attn.q_proj.weight`),
 * as float32 with the Hugging Face shape ([out, in] for linear layers). Random generators, safetensors files and the
 * GGUF importer all implement it, so the same graph builders serve them all.
 */
import { FleetError } from '../../common/errors';

export interface WeightTensor {
  data: Float32Array;
  shape: readonly number[];
}

export interface WeightSource {
  has(name: string): boolean;
  /** The tensor; throws a FleetError when it is missing. Called once per tensor per file written. */
  get(name: string): WeightTensor;
}

/** Gets a tensor and checks its shape. */
export function getWeight(source: WeightSource, name: string, shape: readonly number[]): WeightTensor {
  if (!source.has(name)) throw new FleetError('invalid_request', `weight '${name}' is missing`);
  const tensor = source.get(name);
  const same = tensor.shape.length === shape.length && tensor.shape.every((d, i) => d === shape[i]);
  if (!same) throw new FleetError('invalid_request', `weight '${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== count) throw new FleetError('invalid_request', `weight '${name}' holds ${tensor.data.length} values, its shape needs ${count}`);
  return tensor;
}

/** [rows, cols] -> [cols, rows]: Hugging Face's [out, in] linear weight becomes the [in, out] right operand of MatMul. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const block = 32;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < cols; c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      for (let r = r0; r < r1; r++) {
        const rowBase = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = data[rowBase + c];
      }
    }
  }
  return out;
}

/** Stacks same-width matrices (or vectors) one after the other. */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A WeightSource over tensors held in memory (tests, converters). */
export class MemoryWeightSource implements WeightSource {
  constructor(private readonly tensors: ReadonlyMap<string, WeightTensor>) {}
  has(name: string): boolean {
    return this.tensors.has(name);
  }
  get(name: string): WeightTensor {
    const t = this.tensors.get(name);
    if (t === undefined) throw new FleetError('invalid_request', `weight '${name}' is missing`);
    return t;
  }
  names(): string[] {
    return [...this.tensors.keys()];
  }
}
