/** Linear layers as com.microsoft MatMulNBits nodes with blockwise int4 / int8 weights (onnxruntime CPU). */
import { intAttr } from '../onnx/attributes';
import { GraphBuilder } from '../onnx/graph-builder';
import { concatRows, getWeight, WeightSource } from '../weights/weight-source';
import { QuantBits, QuantizedMatrix, quantizeBlocks } from './block-quant';

/** fp16: weights and activations in half precision (fused graphs only: the GPU's GroupQueryAttention is fp16 / bf16). */
export type WeightFormat = 'fp32' | 'int8' | 'int4' | 'fp16';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['fp32', 'int8', 'int4', 'fp16'];

export interface QuantOptions {
  bits: QuantBits;
  /** Block size along K (default 32). */
  blockSize: number;
  /**
   * MatMulNBits accuracy_level: 0 computes in float32 from dequantised weights (exact w.r.t. the stored weights);
   * 4 lets onnxruntime quantise activations to int8 for its fast integer kernels.
   */
  accuracyLevel: number;
}

export function quantOptionsFor(format: WeightFormat, accuracyLevel = 4): QuantOptions | undefined {
  if (format === 'fp32' || format === 'fp16') return undefined;
  return { bits: format === 'int4' ? 4 : 8, blockSize: 32, accuracyLevel };
}

/** File name of a weight format's graph, as optimum and transformers.js name them. */
export function onnxFileName(format: WeightFormat): string {
  return { fp32: 'model.onnx', int8: 'model_int8.onnx', int4: 'model_q4.onnx', fp16: 'model_fp16.onnx' }[format];
}

export interface QuantLinear {
  /** Base name of the initializers. */
  initName: string;
  /** Hugging Face [out, in] matrices stacked along `out` (N); K = inSize. */
  names: readonly string[];
  outs: readonly number[];
  inSize: number;
}

/** y = x W^T through MatMulNBits, with the (stacked) Hugging Face weights quantised when the model file is written. */
export function nbitsLinear(g: GraphBuilder, source: WeightSource, x: string, layer: QuantLinear, q: QuantOptions): string {
  const n = layer.outs.reduce((a, b) => a + b, 0);
  const k = layer.inSize;
  let cached: QuantizedMatrix | undefined;
  const quantized = (): QuantizedMatrix => {
    if (cached === undefined) {
      const parts = layer.names.map((name, i) => getWeight(source, name, [layer.outs[i], k]).data);
      cached = quantizeBlocks(parts.length === 1 ? parts[0] : concatRows(parts), n, k, q.bits, q.blockSize);
    }
    return cached;
  };
  const blocks = Math.ceil(k / q.blockSize);
  const blob = (q.blockSize * q.bits) / 8;
  const zpBytes = q.bits === 8 ? blocks : Math.ceil(blocks / 2);
  const weight = g.initializer(`${layer.initName}.q${q.bits}`, 'uint8', [n, blocks, blob], () => quantized().data);
  const scales = g.initializer(`${layer.initName}.scales`, 'float32', [n * blocks], () => new Uint8Array(quantized().scales.buffer));
  const zeros = g.initializer(`${layer.initName}.zero_points`, 'uint8', [n * zpBytes], () => quantized().zeroPoints);
  g.useDomain('com.microsoft', 1);
  const [y] = g.node('MatMulNBits', [x, weight, scales, zeros], {
    domain: 'com.microsoft',
    attrs: { K: intAttr(k), N: intAttr(n), bits: intAttr(q.bits), block_size: intAttr(q.blockSize), accuracy_level: intAttr(q.accuracyLevel) },
  });
  return y;
}
