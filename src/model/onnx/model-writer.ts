/**
 * Writes an ONNX model file without ever holding the whole protobuf in memory: the ModelProto header and the graph
 * (without initializers) are encoded by the generated code, then each initializer is appended as a GraphProto
 * field whose raw bytes are streamed straight to the file. Large models put their weights in an external data file
 * (`model.onnx_data` next to the model, as optimum does), which also lifts protobuf's 2 GB limit.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import { FleetError } from '../../common/errors';
import { OnnxModelSpec } from './graph-builder';
import { GraphProto, ModelProto, TensorProto, TensorProto_DataLocation } from './onnx';
import { InitializerSpec, onnxDataType, tensorByteLength } from './tensor-types';

/** ONNX IR version 8 goes with opset 17/18. */
const IR_VERSION = 8;
/** Protobuf messages must stay below 2 GiB; leave headroom for the graph itself. */
const MAX_INLINE_BYTES = 1_900_000_000;
/** Tensors smaller than this stay inline even when the rest goes to the external data file (onnx's default). */
const EXTERNAL_MIN_BYTES = 1024;
/** External tensors start at page boundaries so that onnxruntime can map them. */
const EXTERNAL_ALIGN = 4096;

export type ExternalDataMode = 'auto' | 'always' | 'never';

export interface WriteOnnxOptions {
  /** 'auto' (default): external data only when the weights would not fit a protobuf message. */
  externalData?: ExternalDataMode;
}

export interface WrittenOnnxModel {
  modelPath: string;
  /** Present when weights went to an external file. */
  externalDataPath?: string;
  modelBytes: number;
  externalBytes: number;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** Tag of a length-delimited field. */
function lengthTag(field: number): Buffer {
  return varint((field << 3) | 2);
}

const GRAPH_FIELD = 7; // ModelProto.graph
const INITIALIZER_FIELD = 5; // GraphProto.initializer
const RAW_DATA_FIELD = 9; // TensorProto.raw_data

interface PlannedTensor {
  spec: InitializerSpec;
  /** Encoded TensorProto without raw_data. */
  head: Buffer;
  byteLength: number;
  external: boolean;
  offset: number;
}

class SyncFile {
  private readonly fd: number;
  written = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  write(chunk: Uint8Array): void {
    let done = 0;
    while (done < chunk.byteLength) done += writeSync(this.fd, chunk, done, chunk.byteLength - done);
    this.written += chunk.byteLength;
  }
  close(): void {
    closeSync(this.fd);
  }
}

function planTensors(specs: InitializerSpec[], mode: ExternalDataMode, location: string): PlannedTensor[] {
  const total = specs.reduce((sum, s) => sum + tensorByteLength(s.elemType, s.dims), 0);
  const goExternal = mode === 'always' || (mode === 'auto' && total > MAX_INLINE_BYTES);
  let offset = 0;
  return specs.map((spec) => {
    const byteLength = tensorByteLength(spec.elemType, spec.dims);
    const external = goExternal && byteLength >= EXTERNAL_MIN_BYTES;
    const base = { dims: [...spec.dims], dataType: onnxDataType(spec.elemType), name: spec.name };
    if (!external) return { spec, head: Buffer.from(TensorProto.encode(TensorProto.fromPartial(base)).finish()), byteLength, external, offset: 0 };
    offset = Math.ceil(offset / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    const externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(byteLength) },
    ];
    const head = Buffer.from(TensorProto.encode(TensorProto.fromPartial({ ...base, externalData, dataLocation: TensorProto_DataLocation.EXTERNAL })).finish());
    const planned = { spec, head, byteLength, external, offset };
    offset += byteLength;
    return planned;
  });
}

function loadChecked(t: PlannedTensor): Uint8Array {
  const bytes = t.spec.load();
  if (bytes.byteLength !== t.byteLength) {
    throw new FleetError('internal', `initializer ${t.spec.name} produced ${bytes.byteLength} bytes, expected ${t.byteLength}`);
  }
  return bytes;
}

function initializerEntry(t: PlannedTensor): { prefix: Buffer; total: number } {
  const rawPrefix = t.external ? Buffer.alloc(0) : Buffer.concat([lengthTag(RAW_DATA_FIELD), varint(t.byteLength)]);
  const bodyLength = t.head.byteLength + rawPrefix.byteLength + (t.external ? 0 : t.byteLength);
  const prefix = Buffer.concat([lengthTag(INITIALIZER_FIELD), varint(bodyLength), t.head, rawPrefix]);
  return { prefix, total: prefix.byteLength + (t.external ? 0 : t.byteLength) };
}

function writeExternalData(path: string, tensors: PlannedTensor[]): number {
  const file = new SyncFile(path);
  try {
    for (const t of tensors.filter((x) => x.external)) {
      if (file.written < t.offset) file.write(new Uint8Array(t.offset - file.written));
      file.write(loadChecked(t));
    }
  } finally {
    file.close();
  }
  return file.written;
}

/** Writes `spec` to `modelPath` (and `<model file>_data` when weights go external). Files appear atomically. */
export function writeOnnxModel(modelPath: string, spec: OnnxModelSpec, options: WriteOnnxOptions = {}): WrittenOnnxModel {
  if (endianness() !== 'LE') throw new FleetError('internal', 'ONNX raw tensor data is little-endian; this machine is not');
  const location = `${basename(modelPath)}_data`;
  const tensors = planTensors(spec.initializers, options.externalData ?? 'auto', location);
  const header = ModelProto.encode(
    ModelProto.fromPartial({
      irVersion: IR_VERSION,
      opsetImport: spec.opsets,
      producerName: spec.producerName,
      producerVersion: spec.producerVersion,
      metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
    }),
  ).finish();
  const graphBody = GraphProto.encode(spec.graph).finish();
  const entries = tensors.map(initializerEntry);
  const graphLength = graphBody.byteLength + entries.reduce((sum, e) => sum + e.total, 0);
  if (graphLength > 2 ** 31 - 1) throw new FleetError('internal', `graph of ${graphLength} bytes exceeds protobuf's 2 GiB limit: use external data`);

  const externalPath = join(dirname(modelPath), location);
  const hasExternal = tensors.some((t) => t.external);
  const externalBytes = hasExternal ? writeExternalData(`${externalPath}.partial`, tensors) : 0;
  const file = new SyncFile(`${modelPath}.partial`);
  try {
    file.write(header);
    file.write(Buffer.concat([lengthTag(GRAPH_FIELD), varint(graphLength)]));
    file.write(graphBody);
    tensors.forEach((t, i) => {
      file.write(entries[i].prefix);
      if (!t.external) file.write(loadChecked(t));
    });
  } finally {
    file.close();
  }
  if (hasExternal) renameSync(`${externalPath}.partial`, externalPath);
  renameSync(`${modelPath}.partial`, modelPath);
  return { modelPath, externalDataPath: hasExternal ? externalPath : undefined, modelBytes: file.written, externalBytes };
}
