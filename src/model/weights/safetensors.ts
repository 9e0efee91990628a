/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {...}}` padded with spaces to 8 bytes, then the
 * raw little-endian tensor bytes. The writer streams tensors one at a time; the reader is a WeightSource.
 */
import { closeSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { FleetError } from '../../common/errors';
import { bytesOf } from '../onnx/tensor-types';
import { WeightSource, WeightTensor } from './weight-source';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

interface PendingTensor {
  name: string;
  shape: readonly number[];
}

/** Writes float32 tensors (pulled from `source` one at a time) to `path`, atomically. */
export function writeSafetensors(path: string, tensors: readonly PendingTensor[], source: WeightSource, metadata: Record<string, string> = { format: 'pt' }): number {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 4;
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  let written = 0;
  const write = (chunk: Uint8Array): void => {
    let done = 0;
    while (done < chunk.byteLength) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    written += chunk.byteLength;
  };
  try {
    write(prefix);
    write(headerBytes);
    for (const t of tensors) {
      const tensor = source.get(t.name);
      if (tensor.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new FleetError('internal', `tensor ${t.name} has the wrong size`);
      write(bytesOf(tensor.data));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
  return written;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
}

function toFloat32(dtype: string, raw: Buffer, name: string): Float32Array {
  if (dtype === 'F32') return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const out = new Float32Array(raw.byteLength / 2);
  if (dtype === 'F16') for (let i = 0; i < out.length; i++) out[i] = halfToFloat(raw.readUInt16LE(i * 2));
  else if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < out.length; i++) bits[i] = raw.readUInt16LE(i * 2) << 16;
  } else throw new FleetError('invalid_request', `safetensors tensor ${name}: dtype ${dtype} is not supported (F32, F16, BF16 are)`);
  return out;
}

/** Reads a .safetensors file lazily: the header at open, each tensor when asked for (as float32). */
export class SafetensorsFile implements WeightSource {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  private readonly dataStart: number;

  constructor(private readonly path: string) {
    const fd = openSync(path, 'r');
    try {
      const prefix = Buffer.alloc(8);
      if (readSync(fd, prefix, 0, 8, 0) !== 8) throw new FleetError('invalid_request', `${path}: not a safetensors file (too short)`);
      const length = Number(prefix.readBigUInt64LE());
      if (length > 100_000_000) throw new FleetError('invalid_request', `${path}: not a safetensors file (header of ${length} bytes)`);
      const headerBytes = Buffer.alloc(length);
      readSync(fd, headerBytes, 0, length, 8);
      const header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
      this.metadata = (header.__metadata__ ?? {}) as Record<string, string>;
      delete header.__metadata__;
      this.entries = new Map(Object.entries(header as Record<string, SafetensorsEntry>));
      this.dataStart = 8 + length;
    } catch (err) {
      if (err instanceof SyntaxError) throw new FleetError('invalid_request', `${path}: corrupt safetensors header (${err.message})`);
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): WeightTensor {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new FleetError('invalid_request', `${this.path}: no tensor '${name}'`);
    const [begin, end] = entry.data_offsets;
    const raw = Buffer.alloc(end - begin);
    const fd = openSync(this.path, 'r');
    try {
      if (readSync(fd, raw, 0, raw.byteLength, this.dataStart + begin) !== raw.byteLength) {
        throw new FleetError('invalid_request', `${this.path}: tensor '${name}' is truncated`);
      }
    } finally {
      closeSync(fd);
    }
    return { data: toFloat32(entry.dtype, raw, name), shape: entry.shape };
  }
}
