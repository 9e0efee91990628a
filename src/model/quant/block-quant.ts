/**
 * Blockwise asymmetric quantisation in the layout of onnxruntime's com.microsoft MatMulNBits: a [N, K] weight
 * (Hugging Face's [out, in]) is cut into blocks of `blockSize` along K (the last block zero-padded); each block has
 * a float32 scale and an unsigned zero point, value = (q - zeroPoint) * scale. 4-bit values pack two per byte, low
 * nibble first; 4-bit zero points pack the same way per row.
 */
import { FleetError } from '../../common/errors';

export type QuantBits = 4 | 8;

export interface QuantizedMatrix {
  bits: QuantBits;
  blockSize: number;
  rows: number;
  cols: number;
  blocksPerRow: number;
  /** [rows, blocksPerRow, blockSize * bits / 8] */
  data: Uint8Array;
  /** [rows * blocksPerRow] */
  scales: Float32Array;
  /** 8-bit: [rows * blocksPerRow]; 4-bit: [rows * ceil(blocksPerRow / 2)] packed. */
  zeroPoints: Uint8Array;
}

function checkShape(bits: number, blockSize: number): void {
  if (bits !== 4 && bits !== 8) throw new FleetError('invalid_request', `quantisation supports 4 or 8 bits, got ${bits}`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new FleetError('invalid_request', `block size must be a power of two >= 16, got ${blockSize}`);
}

function setPacked(bytes: Uint8Array, index: number, value: number, bits: QuantBits): void {
  if (bits === 8) {
    bytes[index] = value;
    return;
  }
  const byte = index >> 1;
  bytes[byte] = index & 1 ? (bytes[byte] & 0x0f) | (value << 4) : (bytes[byte] & 0xf0) | value;
}

function getPacked(bytes: Uint8Array, index: number, bits: QuantBits): number {
  if (bits === 8) return bytes[index];
  const byte = bytes[index >> 1];
  return index & 1 ? byte >> 4 : byte & 0x0f;
}

export function quantizeBlocks(weight: Float32Array, rows: number, cols: number, bits: QuantBits, blockSize = 32): QuantizedMatrix {
  checkShape(bits, blockSize);
  if (weight.length !== rows * cols) throw new FleetError('internal', `quantizeBlocks: ${weight.length} values for [${rows}, ${cols}]`);
  const blocksPerRow = Math.ceil(cols / blockSize);
  const blob = (blockSize * bits) / 8;
  const levels = (1 << bits) - 1;
  const zpPerRow = bits === 8 ? blocksPerRow : Math.ceil(blocksPerRow / 2);
  const data = new Uint8Array(rows * blocksPerRow * blob);
  const scales = new Float32Array(rows * blocksPerRow);
  const zeroPoints = new Uint8Array(rows * zpPerRow);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const start = r * cols + b * blockSize;
      const end = r * cols + Math.min(cols, (b + 1) * blockSize);
      let min = 0;
      let max = 0;
      for (let i = start; i < end; i++) {
        if (weight[i] < min) min = weight[i];
        if (weight[i] > max) max = weight[i];
      }
      const scale = Math.fround(max > min ? (max - min) / levels : 1);
      const zp = Math.min(levels, Math.max(0, Math.round(-min / scale)));
      scales[r * blocksPerRow + b] = scale;
      setPacked(zeroPoints, r * zpPerRow * (bits === 8 ? 1 : 2) + b, zp, bits);
      // Element index of the block's first value (nibbles for 4 bits, bytes for 8).
      const first = (r * blocksPerRow + b) * blob * (8 / bits);
      for (let i = 0; i < blockSize; i++) {
        const at = start + i;
        const q = at < end ? Math.min(levels, Math.max(0, Math.round(weight[at] / scale) + zp)) : zp;
        setPacked(data, first + i, q, bits);
      }
    }
  }
  return { bits, blockSize, rows, cols, blocksPerRow, data, scales, zeroPoints };
}

/** The float32 [rows, cols] matrix MatMulNBits computes with. */
export function dequantizeBlocks(m: QuantizedMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  const blob = (m.blockSize * m.bits) / 8;
  const zpPerRow = m.bits === 8 ? m.blocksPerRow : Math.ceil(m.blocksPerRow / 2);
  for (let r = 0; r < m.rows; r++) {
    for (let b = 0; b < m.blocksPerRow; b++) {
      const scale = m.scales[r * m.blocksPerRow + b];
      const zp = getPacked(m.zeroPoints, r * zpPerRow * (m.bits === 8 ? 1 : 2) + b, m.bits);
      const first = (r * m.blocksPerRow + b) * blob * (8 / m.bits);
      for (let i = 0; i < m.blockSize && b * m.blockSize + i < m.cols; i++) {
        out[r * m.cols + b * m.blockSize + i] = Math.fround((getPacked(m.data, first + i, m.bits) - zp) * scale);
      }
    }
  }
  return out;
}
