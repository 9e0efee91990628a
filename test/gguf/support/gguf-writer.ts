/**
 * Test support: writes GGUF files (metadata through @huggingface/gguf's serializer, tensor infos and data by hand),
 * so tests can hand llama.cpp and our importer the very same synthetic models.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { GGUFValueType, serializeGgufMetadata, type GGUFTypedMetadata } from '@huggingface/gguf';

export { GGUFValueType };

export interface TypedValue {
  value: string | number | bigint | boolean | Array<string | number | boolean | bigint>;
  type: GGUFValueType;
  subType?: GGUFValueType;
}

export interface GgufTensorToWrite {
  name: string;
  /** ggml order (fastest first): a Hugging Face [rows, cols] matrix is [cols, rows]. */
  dims: number[];
  type: number;
  data: Uint8Array;
}

const ALIGNMENT = 32;

export const str = (value: string): TypedValue => ({ value, type: GGUFValueType.STRING });
export const u32 = (value: number): TypedValue => ({ value, type: GGUFValueType.UINT32 });
export const f32 = (value: number): TypedValue => ({ value, type: GGUFValueType.FLOAT32 });
export const bool = (value: boolean): TypedValue => ({ value, type: GGUFValueType.BOOL });
export const strArray = (value: string[]): TypedValue => ({ value, type: GGUFValueType.ARRAY, subType: GGUFValueType.STRING });
export const i32Array = (value: number[]): TypedValue => ({ value, type: GGUFValueType.ARRAY, subType: GGUFValueType.INT32 });
export const f32Array = (value: number[]): TypedValue => ({ value, type: GGUFValueType.ARRAY, subType: GGUFValueType.FLOAT32 });

function u64(value: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(value), true);
  return b;
}

function u32Bytes(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}

function tensorInfo(t: GgufTensorToWrite, offset: number): Uint8Array[] {
  const name = new TextEncoder().encode(t.name);
  return [u64(name.length), name, u32Bytes(t.dims.length), ...t.dims.map(u64), u32Bytes(t.type), u64(offset)];
}

const pad = (n: number): number => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

export function writeGguf(path: string, metadata: Record<string, TypedValue>, tensors: GgufTensorToWrite[]): void {
  const typed = {
    version: { value: 3, type: GGUFValueType.UINT32 },
    tensor_count: { value: BigInt(tensors.length), type: GGUFValueType.UINT64 },
    kv_count: { value: BigInt(Object.keys(metadata).length), type: GGUFValueType.UINT64 },
    ...metadata,
  } as unknown as GGUFTypedMetadata;
  const head = serializeGgufMetadata(typed, { alignment: 1 });
  const infos: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    infos.push(...tensorInfo(t, offset));
    offset = pad(offset + t.data.byteLength);
  }
  const headerLength = head.byteLength + infos.reduce((n, b) => n + b.byteLength, 0);
  const fd = openSync(path, 'w');
  try {
    const write = (b: Uint8Array): void => {
      let done = 0;
      while (done < b.byteLength) done += writeSync(fd, b, done, b.byteLength - done);
    };
    write(head);
    infos.forEach(write);
    write(new Uint8Array(pad(headerLength) - headerLength));
    for (const t of tensors) {
      write(t.data);
      write(new Uint8Array(pad(t.data.byteLength) - t.data.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}
