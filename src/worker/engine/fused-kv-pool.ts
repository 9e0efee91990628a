/**
 * The KV cache of a fused graph (GroupQueryAttention, see src/model/llama/fused-decoder-graph.ts), written in place:
 * one preallocated buffer per past input, [slots, kvHeads, capacity, headDim], that lives where the onnxruntime
 * session lives (the session thread). A pass over `batch` rows starting at slot `slot` binds the same view of each
 * buffer as `past_key_values.N.*` and as the preallocated `present.N.*` output, so GroupQueryAttention appends the
 * new positions where they belong and nothing else of the cache is copied. Row r of a slot holds its positions
 * 0 .. length-1 per head. The buffers are allocated zeroed by the OS on first use of each page (a slot costs memory
 * as its sequence grows), and sequences move between slots only when the engine compacts them (see kv-slots.ts).
 *
 * The engine allocates the pool over SharedArrayBuffers (FusedKvPool.shared) and binds it to the session thread once:
 * the thread runs the passes over it, and between passes the engine itself moves slots and copies prefixes in and
 * out (the prefix cache), with no message and no copy through the thread.
 */
import * as ort from 'onnxruntime-node';
import { FleetError } from '../../common/errors';
import type { KvData, KvSpec } from './session';

/** Inputs of a fused graph that the standard one lacks. */
export const SEQLENS_INPUT = 'seqlens_k';
export const TOTAL_LENGTH_INPUT = 'total_sequence_length';
/** A fused graph's per-position argmax (int64 [batch, num_logits]); graphs written before it lack it. */
export const GREEDY_OUTPUT = 'greedy_tokens';

export function isFusedGraph(inputNames: readonly string[]): boolean {
  return inputNames.includes(SEQLENS_INPUT) && inputNames.includes(TOTAL_LENGTH_INPUT);
}

/** [from slot, to slot, positions]: a sequence's cache moved to another slot before a pass. */
export type KvMove = [from: number, to: number, length: number];

/** One pass of a fused graph over slots [slot, slot + batch). */
export interface FusedForwardInput {
  /** Pool size, fixed at the first pass: slots and positions per slot. */
  slots: number;
  capacity: number;
  slot: number;
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array; // [batch, seqLen], rows right-padded
  seqlensK: Int32Array; // [batch]: each row's length after this pass, minus 1
  totalLength: number; // the longest row's length after this pass
  keepLogits: number; // 0 = every position
  /** Applied in order before the pass. */
  moves: KvMove[];
  /**
   * The rows whose logits the engine needs (sampling, penalties, grammar, logprobs); the others take the graph's
   * greedy token and their logits never leave the device. Honoured only by passes with FusedPasses.greedyOnDevice;
   * absent: every row.
   */
  logitRows?: Int32Array;
}

export interface FusedForwardOutput {
  logits: Float32Array; // [batch, logitsPerRow, vocab]
  vocab: number;
  logitsPerRow: number;
  /** Each row's argmax at its last position: from the graph (greedy_tokens) or computed natively (see greedyTokens). */
  greedy?: Int32Array;
  /** Set when only some rows' logits came back: `logits` holds rows logitRows[0], logitRows[1], ... in that order. */
  logitRows?: Int32Array;
}

/** Bytes of one cache element: float32, or float16 (`--kv-cache fp16`, or a graph with float16 weights). */
export function kvElementBytes(kv: Pick<KvSpec, 'dtype'>): number {
  return kv.dtype === 'float32' ? 4 : 2;
}

export class FusedKvPool {
  private readonly buffers: KvData[];
  private readonly slotSize: number;

  /** `buffers`: existing memory to run over (a pool shared with another thread); default fresh ArrayBuffers. */
  constructor(
    private readonly kv: KvSpec,
    readonly slots: number,
    readonly capacity: number,
    buffers?: ArrayBufferLike[],
  ) {
    this.slotSize = kv.kvHeads * capacity * kv.headDim;
    const elements = slots * this.slotSize;
    if (buffers && (buffers.length !== kv.pastNames.length || buffers.some((b) => b.byteLength !== elements * kvElementBytes(kv)))) throw new FleetError('internal', 'KV pool buffers do not match the pool');
    const view = (b: ArrayBufferLike): KvData => (kv.dtype === 'float32' ? new Float32Array(b) : new Uint16Array(b));
    this.buffers = kv.pastNames.map((_, i) => (buffers ? view(buffers[i]) : kv.dtype === 'float32' ? new Float32Array(elements) : new Uint16Array(elements)));
  }

  /** A pool over SharedArrayBuffers, so that the session thread can run passes over the same memory (see bind). */
  static shared(kv: KvSpec, slots: number, capacity: number): FusedKvPool {
    const bytes = slots * kv.kvHeads * capacity * kv.headDim * kvElementBytes(kv);
    return new FusedKvPool(kv, slots, capacity, kv.pastNames.map(() => new SharedArrayBuffer(bytes)));
  }

  /** The memory of each buffer (in KvSpec.pastNames order), to hand to another thread. */
  memory(): ArrayBufferLike[] {
    return this.buffers.map((b) => b.buffer);
  }

  /** Positions 0 .. capacity-1 of one head of one slot, of past input `input` (a view, no copy). */
  head(slot: number, input: number, head: number): KvData {
    this.checkSlots(slot, 1);
    const { headDim } = this.kv;
    const start = slot * this.slotSize + head * this.capacity * headDim;
    return this.buffers[input].subarray(start, start + this.capacity * headDim);
  }

  /** Copies `length` positions of every head from one slot to another (the source slot is then free). */
  move(from: number, to: number, length: number): void {
    this.checkSlots(from, 1);
    this.checkSlots(to, 1);
    if (length < 0 || length > this.capacity) throw new FleetError('internal', `KV move of ${length} positions (capacity ${this.capacity})`);
    const { kvHeads, headDim } = this.kv;
    const span = length * headDim;
    for (const buf of this.buffers) {
      for (let h = 0; h < kvHeads; h++) {
        const src = from * this.slotSize + h * this.capacity * headDim;
        buf.copyWithin(to * this.slotSize + h * this.capacity * headDim, src, src + span);
      }
    }
  }

  /** Views of slots [slot, slot + batch) of every buffer ([batch, kvHeads, capacity, headDim]), in KvSpec.pastNames order. */
  views(slot: number, batch: number): KvData[] {
    this.checkSlots(slot, batch);
    return this.buffers.map((b) => b.subarray(slot * this.slotSize, (slot + batch) * this.slotSize));
  }

  private checkSlots(slot: number, batch: number): void {
    if (!Number.isInteger(slot) || slot < 0 || batch < 1 || slot + batch > this.slots) throw new FleetError('internal', `KV slots [${slot}, ${slot + batch}) outside the pool of ${this.slots}`);
  }
}

/** A named tensor over caller memory: [name, ONNX element type, dims, data]. */
export type BoundTensor = [name: string, type: number, dims: number[], data: Float32Array | Uint16Array | Int32Array | BigInt64Array];
const ONNX_FLOAT = 1;
const ONNX_FLOAT16 = 10;
const ONNX_INT32 = 6;
const ONNX_INT64 = 7;

/**
 * Runs the graph with `feeds` as inputs and `bound` as preallocated outputs (written where they are), returning the
 * logits. onnxruntime-node accepts preallocated outputs but hands every fetched output back as a copy (the whole
 * bound pool view, each pass); the native addon's runBound returns only the logits.
 */
export type BoundRunner = (feeds: BoundTensor[], bound: BoundTensor[]) => Promise<{ logits: Float32Array; dims: readonly number[] }>;

/**
 * A BoundRunner over an onnxruntime-node session (correct, but it copies the bound outputs back every pass).
 * onnxruntime-node cannot read SharedArrayBuffer memory: such tensors run over a private copy, copied back after.
 */
export function ortNodeRunner(session: Pick<ort.InferenceSession, 'run'>): BoundRunner {
  return async (feeds, bound) => {
    const copies = new Map<BoundTensor[3], BoundTensor[3]>();
    const own = (data: BoundTensor[3]): BoundTensor[3] => {
      if (!(data.buffer instanceof SharedArrayBuffer)) return data;
      let copy = copies.get(data);
      if (!copy) copies.set(data, (copy = data.slice()));
      return copy;
    };
    const tensor = ([, type, dims, data]: BoundTensor): ort.Tensor => new ort.Tensor(type === ONNX_FLOAT ? 'float32' : type === ONNX_FLOAT16 ? 'float16' : type === ONNX_INT32 ? 'int32' : 'int64', own(data), dims);
    const inputs: Record<string, ort.Tensor> = {};
    for (const f of feeds) inputs[f[0]] = tensor(f);
    const fetches: Record<string, ort.Tensor | null> = { logits: null };
    for (const b of bound) fetches[b[0]] = tensor(b);
    const out = await session.run(inputs, fetches);
    for (const [shared, copy] of copies) (shared as Float32Array).set(copy as ArrayLike<number>);
    const logits = out.logits;
    if (logits.type !== 'float32') throw new FleetError('generation_failed', `logits of type ${logits.type} are not supported`);
    return { logits: logits.data as Float32Array, dims: logits.dims };
  };
}

/** The inputs of a pass other than the KV pool (host memory; total_sequence_length stays on the CPU on any EP). */
export function fusedFeeds(input: FusedForwardInput, capacity: number): BoundTensor[] {
  if (input.totalLength > capacity) throw new FleetError('internal', `a pass over ${input.totalLength} positions exceeds the KV slot capacity ${capacity}`);
  return [
    ['input_ids', ONNX_INT64, [input.batch, input.seqLen], input.inputIds],
    [SEQLENS_INPUT, ONNX_INT32, [input.batch], input.seqlensK],
    [TOTAL_LENGTH_INPUT, ONNX_INT32, [], Int32Array.of(input.totalLength)],
    ['num_logits_to_keep', ONNX_INT64, [], BigInt64Array.of(BigInt(input.keepLogits))],
  ];
}

/** One pass of a fused graph with its KV cache bound in place. */
export async function runFused(run: BoundRunner, kv: KvSpec, pool: FusedKvPool, input: FusedForwardInput): Promise<FusedForwardOutput> {
  for (const [from, to, length] of input.moves) pool.move(from, to, length);
  const feeds = fusedFeeds(input, pool.capacity);
  const dims = [input.batch, kv.kvHeads, pool.capacity, kv.headDim];
  const views = pool.views(input.slot, input.batch);
  const type = kv.dtype === 'float32' ? ONNX_FLOAT : ONNX_FLOAT16;
  const bound: BoundTensor[] = [];
  kv.pastNames.forEach((name, i) => {
    feeds.push([name, type, dims, views[i]]);
    bound.push([kv.presentNames[i], type, dims, views[i]]);
  });
  let out: { logits: Float32Array; dims: readonly number[] };
  try {
    out = await run(feeds, bound);
  } catch (err) {
    throw new FleetError('generation_failed', `forward pass failed: ${(err as Error).message}`, { cause: err });
  }
  return { logits: out.logits, vocab: out.dims[out.dims.length - 1], logitsPerRow: out.dims[out.dims.length - 2] };
}
