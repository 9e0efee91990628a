/**
 * KV-cache layout for continuous batching. A running batch shares one set of tensors
 * [batch, kvHeads, pastLen, headDim] per past input, each row left-padded to the batch's pastLen (padding is
 * zero and masked out). While the batch's membership is stable, each step's `present` outputs feed the next
 * step directly (no copy); when sequences join or leave, `assembleBatchKv` copies every row's real positions
 * into freshly sized tensors (trimming padding nobody needs any more).
 */
import * as ort from 'onnxruntime-node';
import { hostKv, type KvData, type KvSpec, type KvTensors } from './session';

/** Where one sequence's cache lives: a row of some tensors set. */
export interface KvLocation {
  tensors: KvTensors; // per KvSpec.pastNames, [rows, kvHeads, padded, headDim] (or a device-resident handle)
  row: number;
  padded: number; // the tensors' position dimension
  length: number; // this sequence's real positions (right-aligned in the row)
}

function allocate(spec: KvSpec, size: number): KvData {
  return spec.dtype === 'float32' ? new Float32Array(size) : new Uint16Array(size);
}

/** New batch tensors holding `rows` (in order), left-padded to the longest real length. */
export function assembleBatchKv(spec: KvSpec, rows: KvLocation[]): { tensors: ort.Tensor[]; pastLen: number } {
  const batch = rows.length;
  const pastLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const { kvHeads, headDim } = spec;
  const tensors = spec.pastNames.map((_, t) => {
    const dst = allocate(spec, batch * kvHeads * pastLen * headDim);
    rows.forEach((loc, b) => {
      const src = hostKv(loc.tensors)[t].data as KvData;
      const span = loc.length * headDim;
      for (let h = 0; h < kvHeads; h++) {
        const srcOff = ((loc.row * kvHeads + h) * loc.padded + (loc.padded - loc.length)) * headDim;
        const dstOff = ((b * kvHeads + h) * pastLen + (pastLen - loc.length)) * headDim;
        dst.set(src.subarray(srcOff, srcOff + span), dstOff);
      }
    });
    return new ort.Tensor(spec.dtype, dst, [batch, kvHeads, pastLen, headDim]);
  });
  return { tensors, pastLen };
}

/** Bytes one position of one sequence occupies across all layers (keys and values). */
export function bytesPerPosition(spec: KvSpec): number {
  return spec.pastNames.length * spec.kvHeads * spec.headDim * (spec.dtype === 'float32' ? 4 : 2);
}

/** A KV byte count for messages (MiB, or KiB below one MiB). */
export const formatKvBytes = (bytes: number): string => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);
