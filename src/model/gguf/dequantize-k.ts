/**
 * Dequantisation of ggml's K-quants (256-value super-blocks), value for value as ggml's dequantize_row_q4_K /
 * q5_K / q6_K compute them in float32.
 *
 *   Q4_K (144 bytes): d, dmin (f16); 12 bytes packing eight 6-bit scales and eight 6-bit mins; 128 bytes of nibbles.
 *                     Each 64-value chunk uses the low nibbles of 32 bytes (sub-block 2c) then their high nibbles
 *                     (sub-block 2c+1); value = d * scale * q - dmin * min.
 *   Q5_K (176 bytes): as Q4_K plus 32 bytes of fifth bits (qh) between the scales and the nibbles; chunk c takes
 *                     bit 2c of qh for its low half and bit 2c+1 for its high half.
 *   Q6_K (210 bytes): 128 bytes of low nibbles (ql), 64 bytes of 2-bit highs (qh), 16 signed 8-bit scales, d (f16);
 *                     value = d * scale * (q6 - 32), two 128-value halves of four 32-value quarters each.
 */
import { halfToFloat } from './half-float';
import { QK_K } from './ggml-types';

const f = Math.fround;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The j-th (0..7) 6-bit scale and min of a Q4_K / Q5_K block's 12 scale bytes starting at `at`. */
function scaleMin(bytes: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [bytes[at + j] & 63, bytes[at + j + 4] & 63];
  const scale = (bytes[at + j + 4] & 0x0f) | ((bytes[at + j - 4] >> 6) << 4);
  const min = (bytes[at + j + 4] >> 4) | ((bytes[at + j] >> 6) << 4);
  return [scale, min];
}

export function dequantizeQ4_K(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 144, o += QK_K) {
    const d = halfToFloat(v.getUint16(at, true));
    const dmin = halfToFloat(v.getUint16(at + 2, true));
    const qs = at + 16;
    for (let chunk = 0; chunk < 4; chunk++) {
      const [sc1, m1] = scaleMin(bytes, at + 4, 2 * chunk);
      const [sc2, m2] = scaleMin(bytes, at + 4, 2 * chunk + 1);
      const d1 = f(d * sc1);
      const min1 = f(dmin * m1);
      const d2 = f(d * sc2);
      const min2 = f(dmin * m2);
      const base = o + chunk * 64;
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + chunk * 32 + l];
        out[base + l] = f(f(d1 * (q & 0x0f)) - min1);
        out[base + 32 + l] = f(f(d2 * (q >> 4)) - min2);
      }
    }
  }
}

export function dequantizeQ5_K(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 176, o += QK_K) {
    const d = halfToFloat(v.getUint16(at, true));
    const dmin = halfToFloat(v.getUint16(at + 2, true));
    const qh = at + 16;
    const qs = at + 48;
    for (let chunk = 0; chunk < 4; chunk++) {
      const [sc1, m1] = scaleMin(bytes, at + 4, 2 * chunk);
      const [sc2, m2] = scaleMin(bytes, at + 4, 2 * chunk + 1);
      const d1 = f(d * sc1);
      const min1 = f(dmin * m1);
      const d2 = f(d * sc2);
      const min2 = f(dmin * m2);
      const lowBit = 1 << (2 * chunk);
      const highBit = 2 << (2 * chunk);
      const base = o + chunk * 64;
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + chunk * 32 + l];
        const h = bytes[qh + l];
        out[base + l] = f(f(d1 * ((q & 0x0f) + (h & lowBit ? 16 : 0))) - min1);
        out[base + 32 + l] = f(f(d2 * ((q >> 4) + (h & highBit ? 16 : 0))) - min2);
      }
    }
  }
}

export function dequantizeQ6_K(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 210, o += QK_K) {
    const d = halfToFloat(v.getUint16(at + 208, true));
    for (let half = 0; half < 2; half++) {
      const ql = at + half * 64;
      const qh = at + 128 + half * 32;
      const sc = at + 192 + half * 8;
      const base = o + half * 128;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = bytes[qh + l];
        const q1 = ((bytes[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[base + l] = f(f(d * v.getInt8(sc + is)) * q1);
        out[base + l + 32] = f(f(d * v.getInt8(sc + is + 2)) * q2);
        out[base + l + 64] = f(f(d * v.getInt8(sc + is + 4)) * q3);
        out[base + l + 96] = f(f(d * v.getInt8(sc + is + 6)) * q4);
      }
    }
  }
}
