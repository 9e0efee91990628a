/**
 * A fused graph's KV pool owned by the `ort_device` addon, in the session thread: one buffer per past input of
 * [slots, kvHeads, capacity, headDim], allocated once (cudaMalloc on a CUDA session, host memory on a CPU one), in
 * the graph's own KV dtype (float16 for `--weights fp16`). A pass over slots [slot, slot + batch) binds that
 * contiguous sub-range of every buffer as both `past_key_values.N.*` and `present.N.*` (IO binding over the same
 * memory, so GroupQueryAttention appends in place); only ids, lengths and the (float32) logits cross to the host —
 * and of the logits only the rows the engine asks for (FusedForwardInput.logitRows) when the graph computes each
 * row's greedy token itself (greedy_tokens): a greedy decode step downloads a few bytes per row, not a vocabulary.
 * Slot moves (kv-slots.ts compaction) arrive with the pass and are applied first, as device-to-device copies.
 * The engine never touches this memory, so prefix reuse (which copies positions in and out on the host) is off.
 * With `--device cpu` and the addon the same code runs on the CPU EP: that is how CI tests the CUDA path (and, with
 * cudaGraph, the padded static buckets without the graphs).
 */
import { FleetError } from '../../common/errors';
import { fusedFeeds, GREEDY_OUTPUT, type FusedForwardInput, type FusedForwardOutput } from './fused-kv-pool';
import { createAddonSession, loadOrtDeviceAddon, type AddonHandle, type NativeSessionOptions } from './native-session';
import type { DecoderSession, FusedPasses } from './session';

const ONNX_FLOAT = 1;
const ONNX_FLOAT16 = 10;

/**
 * With --cuda-graph a decode step over b rows runs as a static bucket of the next power of two (at most the pool's
 * slots): rows b.. are padding over free slots (length 0; a new sequence's prompt overwrites what they write), and
 * each bucket is captured once as a CUDA graph and replayed (onnxruntime's enable_cuda_graph, gpu_graph_id = bucket).
 */
export function graphBucket(batch: number, slots: number): number {
  let bucket = 1;
  while (bucket < batch) bucket *= 2;
  return Math.min(bucket, slots);
}

function notForFused(): never {
  throw new FleetError('internal', 'a fused graph runs through its passes (session.fused), not forward / assembleKv');
}

/** A session of a fused graph whose KV pool lives with it (device memory on CUDA); the engine drives `fused`. */
export function openDevicePoolSession(path: string, options: NativeSessionOptions): DecoderSession {
  const lib = loadOrtDeviceAddon();
  const { created, kv, names } = createAddonSession(lib, path, options);
  const type = kv.dtype === 'float16' ? ONNX_FLOAT16 : ONNX_FLOAT;
  const greedyName = created.outputs.includes(GREEDY_OUTPUT) ? GREEDY_OUTPUT : undefined;
  let pool: { handle: AddonHandle; slots: number; capacity: number } | undefined;
  let vocab = 0; // known after the first pass (a prompt always precedes a decode step)
  const forward = (input: FusedForwardInput): FusedForwardOutput => {
    if (!pool) {
      let handle: AddonHandle;
      try {
        handle = lib.createPool(created.session, kv.pastNames.length, input.slots, kv.kvHeads, input.capacity, kv.headDim, type);
      } catch (err) {
        const bytes = kv.pastNames.length * input.slots * kv.kvHeads * input.capacity * kv.headDim * (type === ONNX_FLOAT16 ? 2 : 4);
        throw new FleetError('unavailable', `cannot allocate the ${options.device} KV pool (${input.slots} slots × ${input.capacity} positions, ${(bytes / 2 ** 20).toFixed(0)} MiB): ${(err as Error).message}; lower --kv-cache-mib or --max-concurrency`, { code: 'kv_budget', cause: err });
      }
      pool = { handle, slots: input.slots, capacity: input.capacity };
    }
    if (pool.slots !== input.slots || pool.capacity !== input.capacity) throw new FleetError('internal', `a pass for a pool of ${input.slots} × ${input.capacity} positions over one of ${pool.slots} × ${pool.capacity}`);
    for (const [from, to, length] of input.moves) lib.poolMove(pool.handle, from, to, length);
    const feeds = fusedFeeds(input, pool.capacity);
    // Some rows' logits only: a decode step (one position per row) of a graph that computes the greedy tokens.
    const logitRows = greedyName !== undefined && input.seqLen === 1 ? input.logitRows : undefined;
    let out: [Float32Array | Uint16Array, number[], Int32Array | undefined];
    try {
      const graphBatch = options.cudaGraph && input.seqLen === 1 && input.slot === 0 && vocab > 0 ? graphBucket(input.batch, pool.slots) : 0;
      out = lib.runPool(created.session, pool.handle, feeds, [...kv.pastNames], [...kv.presentNames], input.slot, input.batch, 'logits', graphBatch, vocab, greedyName, logitRows);
    } catch (err) {
      throw new FleetError('generation_failed', `forward pass failed: ${(err as Error).message}`, { cause: err });
    }
    const [logits, dims, greedy] = out;
    vocab = dims[dims.length - 1];
    // fp16 fused graphs cast their logits to float32 inside the graph (fused-decoder-graph.ts): nothing to convert here.
    if (!(logits instanceof Float32Array)) throw new FleetError('generation_failed', `${path}: logits must be float32 (a fused graph casts them inside)`, { code: 'unsupported_graph' });
    const logitsPerRow = dims[dims.length - 2];
    // The graph's tokens are each row's last-position argmax only when a row has one position (decode steps); an
    // addon build older than greedyName returns none (and every row's logits).
    const graphGreedy = greedy !== undefined && logitsPerRow === 1 ? greedy : undefined;
    return { logits, vocab, logitsPerRow, greedy: graphGreedy, logitRows: graphGreedy !== undefined ? logitRows : undefined };
  };
  const passes: FusedPasses = {
    greedyOnDevice: greedyName !== undefined,
    bind: () => Promise.reject(new FleetError('internal', 'a device KV pool lives in the session; slot moves travel with the passes')),
    forward: (input) => {
      try {
        return Promise.resolve(forward(input));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
  return {
    kv,
    fused: passes,
    inputNames: names,
    trimsLogits: true,
    kvOnDevice: true,
    forward: () => Promise.reject(new FleetError('internal', 'a fused graph runs through its passes')),
    assembleKv: () => Promise.reject(new FleetError('internal', 'a fused graph runs through its passes')),
    emptyPast: notForFused,
    release: () => {
      if (pool) lib.freePool(pool.handle);
      pool = undefined;
      lib.releaseSession(created.session);
      return Promise.resolve();
    },
  };
}
