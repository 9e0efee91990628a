/**
 * A WeightSource over a GGUF file: tensors by Hugging Face name, dequantised to float32 with the Hugging Face shape
 * (GGUF dims reversed), Q/K rows of interleaved-RoPE architectures put back in rotate-half order. Nothing is kept
 * in memory between calls: the graph writer asks for each tensor when it writes it.
 */
import { FleetError } from '../../common/errors';
import type { WeightSource, WeightTensor } from '../weights/weight-source';
import type { GgufFile } from './gguf-file';
import type { GgufLlamaModel } from './gguf-llama';
import { unpermuteRopeRows } from './rope-permutation';

const Q_NAME = /\.self_attn\.q_proj\.(weight|bias)$/;
const K_NAME = /\.self_attn\.k_proj\.(weight|bias)$/;

export class GgufWeightSource implements WeightSource {
  constructor(
    private readonly file: GgufFile,
    private readonly model: GgufLlamaModel,
  ) {}

  has(name: string): boolean {
    const g = this.model.tensorNames.get(name);
    return g !== undefined && this.file.tensors.has(g);
  }

  get(name: string): WeightTensor {
    const g = this.model.tensorNames.get(name);
    const info = g === undefined ? undefined : this.file.tensors.get(g);
    if (g === undefined || info === undefined) throw new FleetError('invalid_request', `weight '${name}' is missing from ${this.file.path}`);
    const shape = [...info.dims].reverse();
    let data = this.file.readFloat32(g);
    if (this.model.arch.ropeLayout === 'interleaved') {
      const c = this.model.config;
      const cols = shape.length === 2 ? shape[1] : 1;
      if (Q_NAME.test(name)) data = unpermuteRopeRows(data, c.numHeads, c.headDim, cols);
      else if (K_NAME.test(name)) data = unpermuteRopeRows(data, c.numKvHeads, c.headDim, cols);
    }
    return { data, shape };
  }
}
