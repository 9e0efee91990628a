/**
 * ggml tensor types as GGUF stores them: type id, name, how many values one block holds and how many bytes it takes.
 * Only the types the importer can dequantise are listed as supported; every other id gets a clear error.
 */
import { FleetError } from '../../common/errors';

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  BF16: 30,
} as const;

export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

/** Values per super-block of the K-quants. */
export const QK_K = 256;

export interface GgmlTypeInfo {
  name: string;
  /** Values per block. */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
}

const INFO: Record<GgmlTypeId, GgmlTypeInfo> = {
  [GgmlType.F32]: { name: 'F32', blockSize: 1, blockBytes: 4 },
  [GgmlType.F16]: { name: 'F16', blockSize: 1, blockBytes: 2 },
  [GgmlType.BF16]: { name: 'BF16', blockSize: 1, blockBytes: 2 },
  [GgmlType.Q4_0]: { name: 'Q4_0', blockSize: 32, blockBytes: 2 + 16 },
  [GgmlType.Q4_1]: { name: 'Q4_1', blockSize: 32, blockBytes: 2 + 2 + 16 },
  [GgmlType.Q5_0]: { name: 'Q5_0', blockSize: 32, blockBytes: 2 + 4 + 16 },
  [GgmlType.Q5_1]: { name: 'Q5_1', blockSize: 32, blockBytes: 2 + 2 + 4 + 16 },
  [GgmlType.Q8_0]: { name: 'Q8_0', blockSize: 32, blockBytes: 2 + 32 },
  [GgmlType.Q4_K]: { name: 'Q4_K', blockSize: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 2 },
  [GgmlType.Q5_K]: { name: 'Q5_K', blockSize: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 8 + QK_K / 2 },
  [GgmlType.Q6_K]: { name: 'Q6_K', blockSize: QK_K, blockBytes: QK_K / 2 + QK_K / 4 + QK_K / 16 + 2 },
};

/** Names of ggml types this importer does not read, for error messages (ids from ggml.h). */
const OTHER_NAMES: Record<number, string> = {
  4: 'Q4_2 (removed)', 5: 'Q4_3 (removed)', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS',
  18: 'IQ3_XXS', 19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32',
  27: 'I64', 28: 'F64', 29: 'IQ1_M', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

export function isSupportedType(id: number): id is GgmlTypeId {
  return Object.prototype.hasOwnProperty.call(INFO, id);
}

export function ggmlTypeName(id: number): string {
  return isSupportedType(id) ? INFO[id].name : (OTHER_NAMES[id] ?? `unknown type ${id}`);
}

export function supportedTypeNames(): string[] {
  return Object.values(INFO).map((i) => i.name);
}

/** Block layout of a supported type; a FleetError naming the tensor for any other. */
export function typeInfo(id: number, tensorName: string): GgmlTypeInfo {
  if (!isSupportedType(id)) {
    throw new FleetError(
      'invalid_request',
      `tensor '${tensorName}' has ggml type ${ggmlTypeName(id)}, which the GGUF importer does not read (supported: ${supportedTypeNames().join(', ')})`,
      { code: 'unsupported_tensor_type' },
    );
  }
  return INFO[id];
}

/** Bytes a tensor of `count` values takes; a FleetError when the count is not a whole number of blocks. */
export function tensorBytes(id: number, count: number, tensorName: string): number {
  const info = typeInfo(id, tensorName);
  if (count % info.blockSize !== 0) {
    throw new FleetError('invalid_request', `tensor '${tensorName}' holds ${count} values, not a multiple of ${info.name}'s block of ${info.blockSize}`);
  }
  return (count / info.blockSize) * info.blockBytes;
}
