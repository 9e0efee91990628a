/**
 * ggml's 4-bit formats as "scale * q + min" blocks of 32 values with q in 0..15 — the form onnxruntime's MatMulNBits
 * computes with zero point 0 (value = q * scale) plus a per-block offset:
 *   Q4_0: scale d,        min -8d          (value = (q - 8) d)
 *   Q4_1: scale d,        min m            (value = q d + m)
 *   Q4_K: scale d * sc_j, min -dmin * m_j  for each of the eight 32-value sub-blocks j of a 256-value super-block.
 * The 4-bit values are repacked into MatMulNBits' layout: value i of a block in byte i >> 1, low nibble first
 * (ggml stores values j and j + 16 of a block in the low and high nibbles of byte j).
 */
import { FleetError } from '../../common/errors';
import { halfToFloat } from './half-float';
import { GgmlType, typeInfo } from './ggml-types';

export const Q4_BLOCK = 32;
const PACKED = Q4_BLOCK / 2;

/** Row-major [rows, cols / 32] blocks. */
export interface Q4Rows {
  rows: number;
  blocksPerRow: number;
  /** [rows, blocksPerRow, 16] packed 4-bit values. */
  data: Uint8Array;
  scales: Float32Array;
  mins: Float32Array;
}

export function isQ4Type(type: number): boolean {
  return type === GgmlType.Q4_0 || type === GgmlType.Q4_1 || type === GgmlType.Q4_K;
}

/** Writes 32 values (q(i), i = 0..31) into MatMulNBits' packing at `at`. */
function pack(out: Uint8Array, at: number, q: (i: number) => number): void {
  for (let i = 0; i < PACKED; i++) out[at + i] = q(2 * i) | (q(2 * i + 1) << 4);
}

/** One legacy block's nibbles: ggml keeps value j in the low and value j + 16 in the high nibble of byte j. */
function legacyNibble(raw: Uint8Array, qs: number, i: number): number {
  return i < 16 ? raw[qs + i] & 0x0f : raw[qs + i - 16] >> 4;
}

function scaleMin(raw: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [raw[at + j] & 63, raw[at + j + 4] & 63];
  return [(raw[at + j + 4] & 0x0f) | ((raw[at + j - 4] >> 6) << 4), (raw[at + j + 4] >> 4) | ((raw[at + j] >> 6) << 4)];
}

function legacyBlocks(raw: Uint8Array, out: Q4Rows, withMin: boolean): void {
  const bytes = withMin ? 20 : 18;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const total = out.rows * out.blocksPerRow;
  for (let b = 0; b < total; b++) {
    const at = b * bytes;
    const d = halfToFloat(view.getUint16(at, true));
    out.scales[b] = d;
    out.mins[b] = withMin ? halfToFloat(view.getUint16(at + 2, true)) : Math.fround(-8 * d);
    const qs = at + (withMin ? 4 : 2);
    pack(out.data, b * PACKED, (i) => legacyNibble(raw, qs, i));
  }
}

function kBlocks(raw: Uint8Array, out: Q4Rows): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const superBlocks = (out.rows * out.blocksPerRow) / 8;
  for (let s = 0; s < superBlocks; s++) {
    const at = s * 144;
    const d = halfToFloat(view.getUint16(at, true));
    const dmin = halfToFloat(view.getUint16(at + 2, true));
    for (let j = 0; j < 8; j++) {
      const [sc, m] = scaleMin(raw, at + 4, j);
      const b = s * 8 + j;
      out.scales[b] = Math.fround(d * sc);
      out.mins[b] = -Math.fround(dmin * m);
      const qs = at + 16 + (j >> 1) * 32;
      const high = (j & 1) === 1;
      pack(out.data, b * PACKED, (i) => (high ? raw[qs + i] >> 4 : raw[qs + i] & 0x0f));
    }
  }
}

/** The blocks of a [rows, cols] Q4_0 / Q4_1 / Q4_K tensor given its raw GGUF bytes. */
export function q4Rows(raw: Uint8Array, type: number, rows: number, cols: number, name: string): Q4Rows {
  if (!isQ4Type(type) || cols % (type === GgmlType.Q4_K ? 256 : Q4_BLOCK) !== 0) {
    throw new FleetError('internal', `tensor '${name}' (type ${type}, ${cols} columns) has no 4-bit blocks of 32 along its rows`);
  }
  const info = typeInfo(type, name);
  if (raw.byteLength !== (rows * cols * info.blockBytes) / info.blockSize) throw new FleetError('internal', `tensor '${name}': unexpected byte length ${raw.byteLength}`);
  const blocksPerRow = cols / Q4_BLOCK;
  const out: Q4Rows = {
    rows, blocksPerRow, data: new Uint8Array(rows * blocksPerRow * PACKED), scales: new Float32Array(rows * blocksPerRow), mins: new Float32Array(rows * blocksPerRow),
  };
  if (type === GgmlType.Q4_K) kBlocks(raw, out);
  else legacyBlocks(raw, out, type === GgmlType.Q4_1);
  return out;
}

/** The dequantised values of the blocks (scale * q + min), for checks. */
export function q4Values(rows: Q4Rows): Float32Array {
  const out = new Float32Array(rows.rows * rows.blocksPerRow * Q4_BLOCK);
  for (let b = 0; b < rows.rows * rows.blocksPerRow; b++) {
    for (let i = 0; i < Q4_BLOCK; i++) {
      const byte = rows.data[b * PACKED + (i >> 1)];
      const q = i & 1 ? byte >> 4 : byte & 0x0f;
      out[b * Q4_BLOCK + i] = Math.fround(Math.fround(rows.scales[b] * q) + rows.mins[b]);
    }
  }
  return out;
}
