/**
 * Dequantisation of ggml's plain and 32-value block formats (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), value
 * for value as ggml's dequantize_row_* compute them in float32. Every block starts with float16 scale(s); 4-bit
 * values pack two per byte with the low nibbles holding the block's first 16 values and the high nibbles the last 16.
 */
import { halfToFloat } from './half-float';

const QK = 32;
const f = Math.fround;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function dequantizeF32(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(i * 4, true);
}

export function dequantizeF16(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(v.getUint16(i * 2, true));
}

const bf16Scratch = new DataView(new ArrayBuffer(4));

export function dequantizeBF16(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let i = 0; i < out.length; i++) {
    bf16Scratch.setUint32(0, v.getUint16(i * 2, true) << 16);
    out[i] = bf16Scratch.getFloat32(0);
  }
}

/** Q4_0: d (f16), 16 bytes of nibbles; value = (q - 8) * d. */
export function dequantizeQ4_0(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 18, o += QK) {
    const d = halfToFloat(v.getUint16(at, true));
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 2 + j];
      out[o + j] = f(((q & 0x0f) - 8) * d);
      out[o + j + 16] = f(((q >> 4) - 8) * d);
    }
  }
}

/** Q4_1: d, m (f16), 16 bytes of nibbles; value = q * d + m. */
export function dequantizeQ4_1(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 20, o += QK) {
    const d = halfToFloat(v.getUint16(at, true));
    const m = halfToFloat(v.getUint16(at + 2, true));
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 4 + j];
      out[o + j] = f(f((q & 0x0f) * d) + m);
      out[o + j + 16] = f(f((q >> 4) * d) + m);
    }
  }
}

/** Q5_0: d (f16), 32 high bits (u32 LE), 16 bytes of nibbles; value = (q5 - 16) * d. */
export function dequantizeQ5_0(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 22, o += QK) {
    const d = halfToFloat(v.getUint16(at, true));
    const qh = v.getUint32(at + 2, true);
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 6 + j];
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[o + j] = f((((q & 0x0f) | h0) - 16) * d);
      out[o + j + 16] = f((((q >> 4) | h1) - 16) * d);
    }
  }
}

/** Q5_1: d, m (f16), 32 high bits, 16 bytes of nibbles; value = q5 * d + m. */
export function dequantizeQ5_1(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 24, o += QK) {
    const d = halfToFloat(v.getUint16(at, true));
    const m = halfToFloat(v.getUint16(at + 2, true));
    const qh = v.getUint32(at + 4, true);
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 8 + j];
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[o + j] = f(f(((q & 0x0f) | h0) * d) + m);
      out[o + j + 16] = f(f(((q >> 4) | h1) * d) + m);
    }
  }
}

/** Q8_0: d (f16), 32 signed bytes; value = q * d. */
export function dequantizeQ8_0(bytes: Uint8Array, out: Float32Array): void {
  const v = view(bytes);
  for (let at = 0, o = 0; o < out.length; at += 34, o += QK) {
    const d = halfToFloat(v.getUint16(at, true));
    for (let j = 0; j < QK; j++) out[o + j] = f(v.getInt8(at + 2 + j) * d);
  }
}
