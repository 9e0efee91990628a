/**
 * A GGUF file opened for reading: header checked first without allocating (gguf-header-check.ts), then header,
 * metadata and tensor index parsed by @huggingface/gguf, checked here
 * (every tensor's bytes lie inside the file at an aligned offset), and tensor data read with our own code, one tensor
 * at a time, straight from the file.
 *
 * GGUF layout: magic "GGUF", version, tensor count, metadata count, metadata key-values, tensor infos (name, dims
 * fastest-first, ggml type, offset), padding to `general.alignment` (default 32), tensor data.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { gguf } from '@huggingface/gguf';
import { FleetError } from '../../common/errors';
import { dequantize } from './dequantize';
import { checkGgufHeader } from './gguf-header-check';
import { ggmlTypeName, isSupportedType, tensorBytes } from './ggml-types';
import { GgufMetadata, GgufValue } from './gguf-metadata';

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the fastest-varying (columns). Reversed, it is the row-major (PyTorch) shape. */
  dims: number[];
  type: number;
  typeName: string;
  /** Absolute byte offset in the file. */
  offset: number;
  /** Byte length, or undefined when the type is not supported (reading it raises a FleetError). */
  byteLength: number | undefined;
  count: number;
}

export interface GgufFile {
  path: string;
  version: number;
  metadata: GgufMetadata;
  tensors: ReadonlyMap<string, GgufTensorInfo>;
  /** The tensor's raw bytes. */
  readRaw(name: string): Uint8Array;
  /** The tensor as float32 values in ggml order (row-major with dims reversed). */
  readFloat32(name: string): Float32Array;
  close(): void;
}

const DEFAULT_ALIGNMENT = 32;

function invalid(path: string, message: string, cause?: unknown): FleetError {
  return new FleetError('invalid_request', `${path} is not a readable GGUF file: ${message}`, { code: 'invalid_gguf', cause });
}

function toCount(dims: number[], name: string, path: string): number {
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d <= 0) throw invalid(path, `tensor '${name}' has dimension ${d}`);
    count *= d;
  }
  if (!Number.isSafeInteger(count)) throw invalid(path, `tensor '${name}' is too large`);
  return count;
}

function checkTensors(path: string, tensors: GgufTensorInfo[], dataStart: number, fileSize: number, alignment: number): void {
  for (const t of tensors) {
    if ((t.offset - dataStart) % alignment !== 0) throw invalid(path, `tensor '${t.name}' starts at an offset not aligned to ${alignment}`);
    if (t.byteLength !== undefined && t.offset + t.byteLength > fileSize) {
      throw invalid(path, `tensor '${t.name}' (${t.byteLength} bytes at ${t.offset}) runs past the end of the file (${fileSize} bytes): the file is truncated`);
    }
  }
}

/** Parses the header, metadata and tensor index of a GGUF file. Tensor data is read on demand. */
export async function openGguf(path: string): Promise<GgufFile> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new FleetError('not_found', `GGUF file not found: ${path}`, { param: 'file' });
  // Counts and lengths checked against the bytes left before the parser allocates anything for them.
  checkGgufHeader(path);
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (err) {
    throw invalid(path, (err as Error).message, err);
  }
  const entries = Object.entries(parsed.metadata).filter(([k]) => !['version', 'tensor_count', 'kv_count'].includes(k));
  const metadata = new GgufMetadata(new Map(entries as Array<[string, GgufValue]>), path);
  const alignment = metadata.optionalInteger('general.alignment') ?? DEFAULT_ALIGNMENT;
  if (alignment === 0) throw invalid(path, 'general.alignment is 0');
  if (!parsed.littleEndian) throw invalid(path, 'big-endian GGUF files are not supported');
  const dataStart = Number(parsed.tensorDataOffset);
  const infos: GgufTensorInfo[] = parsed.tensorInfos.map((t) => {
    const dims = t.shape.map(Number);
    const count = toCount(dims, t.name, path);
    const type = Number(t.dtype);
    return {
      name: t.name,
      dims,
      type,
      typeName: ggmlTypeName(type),
      offset: dataStart + Number(t.offset),
      byteLength: isSupportedType(type) ? tensorBytes(type, count, t.name) : undefined,
      count,
    };
  });
  const fd = openSync(path, 'r');
  try {
    checkTensors(path, infos, dataStart, fstatSync(fd).size, alignment);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const tensors = new Map(infos.map((t) => [t.name, t]));
  if (tensors.size !== infos.length) {
    closeSync(fd);
    throw invalid(path, 'two tensors have the same name');
  }
  return makeFile(path, Number(parsed.metadata.version), metadata, tensors, fd);
}

function makeFile(path: string, version: number, metadata: GgufMetadata, tensors: Map<string, GgufTensorInfo>, fd: number): GgufFile {
  let open = true;
  const info = (name: string): GgufTensorInfo => {
    const t = tensors.get(name);
    if (t === undefined) throw new FleetError('invalid_request', `${path}: no tensor named '${name}'`, { code: 'invalid_gguf' });
    return t;
  };
  const readRaw = (name: string): Uint8Array => {
    if (!open) throw new FleetError('internal', `${path} is closed`);
    const t = info(name);
    const length = t.byteLength ?? tensorBytes(t.type, t.count, t.name);
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buffer, done, length - done, t.offset + done);
      if (n === 0) throw invalid(path, `tensor '${name}' ends early`);
      done += n;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  };
  return {
    path,
    version,
    metadata,
    tensors,
    readRaw,
    readFloat32: (name) => {
      const t = info(name);
      return dequantize(t.type, readRaw(name), t.count, name);
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
