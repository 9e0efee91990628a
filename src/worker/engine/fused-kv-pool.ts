/**
 * The KV cache of a fused graph (GroupQueryAttention, see src/model/llama/fused-decoder-graph.ts), written in place:
 * one preallocated buffer per past input, [slots, kvHeads, capacity, headDim], that lives where the onnxruntime
 * session lives (the session thread). A pass over `batch` rows starting at slot `slot` binds the same view of each
 * buffer as `past_key_values.N.*` and as the preallocated `present.N.*` output, so GroupQueryAttention appends the
 * new positions where they belong and nothing else of the cache is copied. Row r of a slot holds its positions
 * 0 .. length-1 per head. The buffers are allocated zeroed by the OS on first use of each page (a slot costs memory
 * as its sequence grows), and sequences move between slots only when the engine compacts them (see kv-slots.ts).
 */
import * as ort from 'onnxruntime-node';
import { FleetError } from '../../common/errors';
import type { KvSpec } from './session';

/** Inputs of a fused graph that the standard one lacks. */
export const SEQLENS_INPUT = 'seqlens_k';
export const TOTAL_LENGTH_INPUT = 'total_sequence_length';

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
}

export interface FusedForwardOutput {
  logits: Float32Array; // [batch, logitsPerRow, vocab]
  vocab: number;
  logitsPerRow: number;
}

export class FusedKvPool {
  private readonly buffers: Float32Array[];
  private readonly slotSize: number;

  constructor(
    private readonly kv: KvSpec,
    readonly slots: number,
    readonly capacity: number,
  ) {
    if (kv.dtype !== 'float32') throw new FleetError('invalid_request', 'a fused graph needs a float32 KV cache', { code: 'unsupported_graph' });
    this.slotSize = kv.kvHeads * capacity * kv.headDim;
    this.buffers = kv.pastNames.map(() => new Float32Array(slots * this.slotSize));
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

  /** Tensors over slots [slot, slot + batch) of every buffer, in KvSpec.pastNames order. */
  views(slot: number, batch: number): ort.Tensor[] {
    this.checkSlots(slot, batch);
    const dims = [batch, this.kv.kvHeads, this.capacity, this.kv.headDim];
    return this.buffers.map((b) => new ort.Tensor('float32', b.subarray(slot * this.slotSize, (slot + batch) * this.slotSize), dims));
  }

  private checkSlots(slot: number, batch: number): void {
    if (!Number.isInteger(slot) || slot < 0 || batch < 1 || slot + batch > this.slots) throw new FleetError('internal', `KV slots [${slot}, ${slot + batch}) outside the pool of ${this.slots}`);
  }
}

type Runner = Pick<ort.InferenceSession, 'run'>;

/** One pass of a fused graph with its KV cache bound in place (the pool is created by the first pass). */
export async function runFused(session: Runner, kv: KvSpec, pool: FusedKvPool, input: FusedForwardInput): Promise<FusedForwardOutput> {
  for (const [from, to, length] of input.moves) pool.move(from, to, length);
  if (input.totalLength > pool.capacity) throw new FleetError('internal', `a pass over ${input.totalLength} positions exceeds the KV slot capacity ${pool.capacity}`);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', input.inputIds, [input.batch, input.seqLen]),
    [SEQLENS_INPUT]: new ort.Tensor('int32', input.seqlensK, [input.batch]),
    [TOTAL_LENGTH_INPUT]: new ort.Tensor('int32', Int32Array.of(input.totalLength), []),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(input.keepLogits)), []),
  };
  const fetches: Record<string, ort.Tensor | null> = { logits: null };
  const views = pool.views(input.slot, input.batch);
  kv.pastNames.forEach((name, i) => {
    feeds[name] = views[i];
    fetches[kv.presentNames[i]] = views[i];
  });
  let out: ort.InferenceSession.OnnxValueMapType;
  try {
    out = await session.run(feeds, fetches);
  } catch (err) {
    throw new FleetError('generation_failed', `forward pass failed: ${(err as Error).message}`, { cause: err });
  }
  const logits = out.logits;
  if (logits.type !== 'float32') throw new FleetError('generation_failed', `logits of type ${logits.type} are not supported`);
  return { logits: logits.data as Float32Array, vocab: logits.dims[logits.dims.length - 1], logitsPerRow: logits.dims[logits.dims.length - 2] };
}
