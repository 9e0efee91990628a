/** Element types fleetchat writes into ONNX graphs, their ONNX data-type codes and byte sizes. */
import { TensorProto_DataType } from './onnx';

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const DATA_TYPES: Record<ElemType, TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  int64: TensorProto_DataType.INT64,
  int32: TensorProto_DataType.INT32,
  int8: TensorProto_DataType.INT8,
  uint8: TensorProto_DataType.UINT8,
  bool: TensorProto_DataType.BOOL,
};

const BYTE_SIZES: Record<ElemType, number> = { float32: 4, float16: 2, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 };

export function onnxDataType(elemType: ElemType): TensorProto_DataType {
  return DATA_TYPES[elemType];
}

export function elemTypeOf(dataType: number): ElemType | undefined {
  const found = (Object.keys(DATA_TYPES) as ElemType[]).find((k) => (DATA_TYPES[k] as number) === dataType);
  return found;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function tensorByteLength(elemType: ElemType, dims: readonly number[]): number {
  return elementCount(dims) * BYTE_SIZES[elemType];
}

/** A constant tensor of the graph whose bytes are produced only when the model file is written. */
export interface InitializerSpec {
  name: string;
  elemType: ElemType;
  dims: readonly number[];
  /** Little-endian raw bytes, exactly tensorByteLength(elemType, dims) long. Called once, while writing. */
  load(): Uint8Array;
}

/** A view of a typed array's bytes (no copy). The machine must be little-endian, as ONNX raw data is. */
export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}
