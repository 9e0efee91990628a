/** Messages between the engine (main thread) and the session thread that runs onnxruntime. */
import type { ResolvedDevice } from '../device/execution-provider';
import type { FusedForwardInput } from './fused-kv-pool';
import type { KvSpec } from './session';

export interface OpenMessage {
  kind: 'open';
  path: string;
  threads: number;
  device?: ResolvedDevice;
  /** Keep the KV cache in device memory through the native addon (see native-session.ts). */
  nativeKv: boolean;
}

export interface ForwardMessage {
  kind: 'forward';
  id: number;
  batch: number;
  seqLen: number;
  pastLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  positionIds: BigInt64Array;
  /** KV data per past input (moved, not copied), or null for an empty past. */
  past: Array<Float32Array | Uint16Array> | null;
  /** With a device-resident cache: the id of the past KV set (consumed by this pass), or null. */
  pastKv?: number | null;
  keepLogits?: number;
}

/** Device-resident KV sets into one left-padded batch (consumes the sources, frees every other set). */
export interface AssembleMessage {
  kind: 'assemble';
  id: number;
  rows: Array<{ kv: number; row: number; padded: number; length: number }>;
  pastLen: number;
}

/** A pass of a fused graph over its in-place KV pool (which lives in the session thread). */
export interface FusedForwardMessage extends FusedForwardInput {
  kind: 'forwardFused';
  id: number;
}

/** The engine's KV pool for a fused graph's passes from now on (SharedArrayBuffers, one per past input). */
export interface BindPoolMessage {
  kind: 'bindPool';
  id: number;
  slots: number;
  capacity: number;
  memory: ArrayBufferLike[];
}

export interface ReleaseMessage {
  kind: 'release';
}

export type ToSessionThread = OpenMessage | ForwardMessage | FusedForwardMessage | BindPoolMessage | AssembleMessage | ReleaseMessage;

export type FromSessionThread =
  | { kind: 'opened'; kv: KvSpec; inputNames: string[]; kvOnDevice: boolean; fused: boolean }
  | { kind: 'fusedResult'; id: number; logits: Float32Array; vocab: number; logitsPerRow: number; greedy?: Int32Array }
  | { kind: 'result'; id: number; logits: Float32Array; vocab: number; logitsPerRow: number; present: Array<Float32Array | Uint16Array>; presentKv?: number; greedy?: Int32Array }
  | { kind: 'assembled'; id: number; kv: number; pastLen: number }
  | { kind: 'poolBound'; id: number }
  | { kind: 'error'; id: number; message: string; code?: string; errorKind?: string }
  | { kind: 'released' };

/** The buffers of typed arrays, for a transfer list: each distinct buffer once, and only whole-buffer views. */
export function transferables(arrays: Array<ArrayBufferView>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) {
    const buffer = a.buffer as ArrayBuffer;
    if (a.byteOffset === 0 && a.byteLength === buffer.byteLength) seen.add(buffer);
  }
  return [...seen];
}

/** A typed array that owns its whole buffer (copies views into shared or larger buffers). */
export function owned<T extends Float32Array | Uint16Array | BigInt64Array | Int32Array>(a: T): T {
  if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  return a.slice() as T;
}
