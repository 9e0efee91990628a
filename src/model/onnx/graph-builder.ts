/**
 * A small builder for ONNX graphs: declare inputs and outputs (with symbolic dims), add initializers and nodes,
 * then build() checks the graph (every value defined before use, every output produced, no unused initializer,
 * unique names) and returns a model spec for writeOnnxModel.
 */
import { FleetError } from '../../common/errors';
import { AttributeValue, toAttributeProto } from './attributes';
import { GraphProto, NodeProto, TensorShapeProto_Dimension, TypeProto, ValueInfoProto } from './onnx';
import { bytesOf, ElemType, elementCount, InitializerSpec, onnxDataType, tensorByteLength } from './tensor-types';

/** A fixed size or a symbolic name such as `batch_size`. */
export type Dim = number | string;

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface OnnxModelSpec {
  /** The graph without initializers: those are written by writeOnnxModel from `initializers`. */
  graph: GraphProto;
  initializers: InitializerSpec[];
  opsets: OpsetImport[];
  producerName: string;
  producerVersion: string;
  metadata: Record<string, string>;
}

export interface NodeOptions {
  attrs?: Record<string, AttributeValue>;
  /** Output names, or how many outputs to name automatically (default 1). */
  outputs?: readonly string[] | number;
  domain?: string;
}

type TypedData = Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

function valueInfo(name: string, elemType: ElemType, dims: readonly Dim[]): ValueInfoProto {
  const dim = dims.map((d) =>
    TensorShapeProto_Dimension.fromPartial({ value: typeof d === 'number' ? { $case: 'dimValue', value: d } : { $case: 'dimParam', value: d } }),
  );
  const type = TypeProto.fromPartial({ value: { $case: 'tensorType', value: { elemType: onnxDataType(elemType), shape: { dim } } } });
  return ValueInfoProto.fromPartial({ name, type });
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers = new Map<string, InitializerSpec>();
  private readonly defined = new Set<string>();
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private readonly opsets = new Map<string, number>();
  private counter = 0;
  /** Prefix of automatically named nodes and values, e.g. `/model/layers.0/attn`. */
  prefix = '';

  constructor(private readonly name: string, opsetVersion: number) {
    this.opsets.set('', opsetVersion);
  }

  useDomain(domain: string, version: number): void {
    this.opsets.set(domain, version);
  }

  input(name: string, elemType: ElemType, dims: readonly Dim[]): string {
    this.define(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output; a node must produce a value of this name. */
  output(name: string, elemType: ElemType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
    this.used.add(name);
  }

  /** A weight or constant tensor; `data` is a typed array or a loader called when the file is written. */
  initializer(name: string, elemType: ElemType, dims: readonly number[], data: TypedData | (() => Uint8Array)): string {
    const bytes = tensorByteLength(elemType, dims);
    if (typeof data !== 'function' && data.byteLength !== bytes) {
      throw new FleetError('internal', `initializer ${name}: ${data.byteLength} bytes of data for dims [${dims.join(', ')}] (${bytes} bytes)`);
    }
    this.define(name);
    const load = typeof data === 'function' ? data : () => bytesOf(data);
    this.initializers.set(name, { name, elemType, dims: [...dims], load });
    return name;
  }

  /** A small int64 constant (deduplicated), e.g. a shape for Reshape or axes. Scalar when `dims` is []. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant('i64', values, dims, () => BigInt64Array.from(values.map((v) => BigInt(v))), 'int64');
  }

  /** A small float32 constant (deduplicated). Scalar when `dims` is []. */
  float32s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant('f32', values, dims, () => Float32Array.from(values), 'float32');
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    for (const input of inputs) {
      if (input === '') continue;
      if (!this.defined.has(input)) throw new FleetError('internal', `${opType} node reads '${input}', which is not defined yet`);
      this.used.add(input);
    }
    const id = this.counter++;
    const base = `${this.prefix}/${opType}_${id}`;
    const spec = options.outputs ?? 1;
    const outputs = typeof spec === 'number' ? Array.from({ length: spec }, (_, i) => `${base}/output_${i}`) : [...spec];
    for (const out of outputs) this.define(out);
    const attribute = Object.entries(options.attrs ?? {}).map(([k, v]) => toAttributeProto(k, v));
    this.nodes.push(NodeProto.fromPartial({ input: [...inputs], output: outputs, name: base, opType, domain: options.domain ?? '', attribute }));
    return outputs;
  }

  /** Adds a single-output node and returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs?: Record<string, AttributeValue>, outputName?: string): string {
    const [out] = this.node(opType, inputs, { attrs, outputs: outputName === undefined ? 1 : [outputName] });
    return out;
  }

  build(producerName: string, producerVersion: string, metadata: Record<string, string> = {}): OnnxModelSpec {
    for (const out of this.outputs) {
      if (!this.defined.has(out.name)) throw new FleetError('internal', `graph output '${out.name}' is never produced`);
    }
    const unused = [...this.initializers.keys()].filter((n) => !this.used.has(n));
    if (unused.length > 0) throw new FleetError('internal', `unused initializers: ${unused.join(', ')}`);
    const graph = GraphProto.fromPartial({ name: this.name, node: this.nodes, input: this.inputs, output: this.outputs });
    const opsets = [...this.opsets].map(([domain, version]) => ({ domain, version }));
    return { graph, initializers: [...this.initializers.values()], opsets, producerName, producerVersion, metadata };
  }

  private define(name: string): void {
    if (this.defined.has(name)) throw new FleetError('internal', `value '${name}' is defined twice`);
    this.defined.add(name);
  }

  private constant(tag: string, values: readonly number[], dims: readonly number[], make: () => TypedData, elemType: ElemType): string {
    if (elementCount(dims) !== values.length) throw new FleetError('internal', `constant of ${values.length} values for dims [${dims.join(', ')}]`);
    const key = `${tag}:${dims.join('x')}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing !== undefined) return existing;
    const name = `const_${tag}_${this.constants.size}`;
    this.initializer(name, elemType, dims, make());
    this.constants.set(key, name);
    return name;
  }
}
