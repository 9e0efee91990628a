/** Turns the raw bytes of a GGUF tensor of any supported ggml type into float32 values. */
import { FleetError } from '../../common/errors';
import { dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K } from './dequantize-k';
import { dequantizeBF16, dequantizeF16, dequantizeF32, dequantizeQ4_0, dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1, dequantizeQ8_0 } from './dequantize-legacy';
import { GgmlType, GgmlTypeId, tensorBytes, typeInfo } from './ggml-types';

type Dequantizer = (bytes: Uint8Array, out: Float32Array) => void;

const DEQUANTIZERS: Record<GgmlTypeId, Dequantizer> = {
  [GgmlType.F32]: dequantizeF32,
  [GgmlType.F16]: dequantizeF16,
  [GgmlType.BF16]: dequantizeBF16,
  [GgmlType.Q4_0]: dequantizeQ4_0,
  [GgmlType.Q4_1]: dequantizeQ4_1,
  [GgmlType.Q5_0]: dequantizeQ5_0,
  [GgmlType.Q5_1]: dequantizeQ5_1,
  [GgmlType.Q8_0]: dequantizeQ8_0,
  [GgmlType.Q4_K]: dequantizeQ4_K,
  [GgmlType.Q5_K]: dequantizeQ5_K,
  [GgmlType.Q6_K]: dequantizeQ6_K,
};

/** `count` values of ggml type `type` from `bytes` (exactly the tensor's bytes). */
export function dequantize(type: number, bytes: Uint8Array, count: number, tensorName: string): Float32Array {
  typeInfo(type, tensorName);
  const expected = tensorBytes(type, count, tensorName);
  if (bytes.byteLength !== expected) {
    throw new FleetError('invalid_request', `tensor '${tensorName}': ${bytes.byteLength} bytes for ${count} values, expected ${expected}`);
  }
  const out = new Float32Array(count);
  DEQUANTIZERS[type as GgmlTypeId](bytes, out);
  return out;
}
