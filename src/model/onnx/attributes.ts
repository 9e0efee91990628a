/**
 * Node attributes with an explicit type: JavaScript cannot tell 1.0 from 1, so every attribute says which ONNX
 * attribute field it fills.
 */
import { AttributeProto, AttributeProto_AttributeType as AttrType, TensorProto } from './onnx';

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorProto };

export const floatAttr = (value: number): AttributeValue => ({ kind: 'float', value });
export const intAttr = (value: number): AttributeValue => ({ kind: 'int', value });
export const stringAttr = (value: string): AttributeValue => ({ kind: 'string', value });
export const floatsAttr = (value: readonly number[]): AttributeValue => ({ kind: 'floats', value });
export const intsAttr = (value: readonly number[]): AttributeValue => ({ kind: 'ints', value });
export const tensorAttr = (value: TensorProto): AttributeValue => ({ kind: 'tensor', value });

export function toAttributeProto(name: string, attr: AttributeValue): AttributeProto {
  switch (attr.kind) {
    case 'float':
      return AttributeProto.fromPartial({ name, type: AttrType.FLOAT, f: attr.value });
    case 'int':
      return AttributeProto.fromPartial({ name, type: AttrType.INT, i: attr.value });
    case 'string':
      return AttributeProto.fromPartial({ name, type: AttrType.STRING, s: Buffer.from(attr.value, 'utf8') });
    case 'floats':
      return AttributeProto.fromPartial({ name, type: AttrType.FLOATS, floats: [...attr.value] });
    case 'ints':
      return AttributeProto.fromPartial({ name, type: AttrType.INTS, ints: [...attr.value] });
    case 'tensor':
      return AttributeProto.fromPartial({ name, type: AttrType.TENSOR, t: attr.value });
  }
}
