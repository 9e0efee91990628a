/**
 * The decoder's ONNX Runtime session: created once per model, its KV-cache inputs discovered from the
 * session's input metadata, and `forward()` — one run over a batch.
 *
 * The KV-cache layout for continuous batching: a running batch shares one set of tensors
 * [batch, kvHeads, pastLen, headDim] per past input, each row left-padded to the batch's pastLen (padding is
 * zero and masked out). While the batch's membership is stable, each step's `present` outputs feed the next
 * step directly (no copy); when sequences join or leave, `assembleBatchKv` copies every row's real positions
 * into freshly sized tensors (trimming padding nobody needs any more).
 */
import * as ort from 'onnxruntime-node';
import { FleetError } from '../../common/errors';
import { executionProvidersFor, type ResolvedDevice } from '../device/execution-provider';
import { float16ToFloat32 } from './float16';
import { FusedKvPool, isFusedGraph, ortNodeRunner, runFused, type BoundRunner, type FusedForwardInput, type FusedForwardOutput } from './fused-kv-pool';
import type { AttentionKernel } from './native-session';
import { spinWaitConfig } from './spin-wait';

export type KvDtype = 'float32' | 'float16';

/** A KV cache that stays in device memory: a handle to tensors held by the session thread (see native-session.ts). */
export interface DeviceKvRef {
  readonly deviceKv: number;
}

/** One batch's KV cache: host tensors per KvSpec.pastNames, or a handle to device-resident ones. */
export type KvTensors = ort.Tensor[] | DeviceKvRef;

export function isDeviceKv(kv: KvTensors): kv is DeviceKvRef {
  return !Array.isArray(kv);
}

/** Host tensors of a KV cache; a device-resident one here is a programming error. */
export function hostKv(kv: KvTensors): ort.Tensor[] {
  if (isDeviceKv(kv)) throw new FleetError('internal', 'a device-resident KV cache reached a host-memory session');
  return kv;
}
export type KvData = Float32Array | Uint16Array;

export interface KvSpec {
  layers: number;
  kvHeads: number;
  headDim: number;
  dtype: KvDtype;
  /** past_key_values.{i}.key / .value, in layer order (key, value, key, value, ...). */
  pastNames: string[];
  /** present.{i}.key / .value, matching pastNames. */
  presentNames: string[];
}

/** Where one sequence's cache lives: a row of some tensors set. */
export interface KvLocation {
  tensors: KvTensors; // per KvSpec.pastNames, [rows, kvHeads, padded, headDim] (or a device-resident handle)
  row: number;
  padded: number; // the tensors' position dimension
  length: number; // this sequence's real positions (right-aligned in the row)
}

function allocate(spec: KvSpec, size: number): KvData {
  return spec.dtype === 'float32' ? new Float32Array(size) : new Uint16Array(size);
}

/** New batch tensors holding `rows` (in order), left-padded to the longest real length. */
export function assembleBatchKv(spec: KvSpec, rows: KvLocation[]): { tensors: ort.Tensor[]; pastLen: number } {
  const batch = rows.length;
  const pastLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const { kvHeads, headDim } = spec;
  const tensors = spec.pastNames.map((_, t) => {
    const dst = allocate(spec, batch * kvHeads * pastLen * headDim);
    rows.forEach((loc, b) => {
      const src = hostKv(loc.tensors)[t].data as KvData;
      const span = loc.length * headDim;
      for (let h = 0; h < kvHeads; h++) {
        const srcOff = ((loc.row * kvHeads + h) * loc.padded + (loc.padded - loc.length)) * headDim;
        const dstOff = ((b * kvHeads + h) * pastLen + (pastLen - loc.length)) * headDim;
        dst.set(src.subarray(srcOff, srcOff + span), dstOff);
      }
    });
    return new ort.Tensor(spec.dtype, dst, [batch, kvHeads, pastLen, headDim]);
  });
  return { tensors, pastLen };
}

/** Bytes one position of one sequence occupies across all layers (keys and values). */
export function bytesPerPosition(spec: KvSpec): number {
  return spec.pastNames.length * spec.kvHeads * spec.headDim * (spec.dtype === 'float32' ? 4 : 2);
}

/** A KV byte count for messages (MiB, or KiB below one MiB). */
export const formatKvBytes = (bytes: number): string => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);

export interface SessionOptions {
  threads: number;
  /** Where the model runs (default: the CPU). */
  device?: ResolvedDevice;
  /**
   * Keep the KV cache in device memory through the native addon (native/ort-device). Default: on for CUDA when the
   * addon is built, off otherwise; tests turn it on for the CPU.
   */
  nativeKv?: boolean;
  /** A fused graph's GroupQueryAttention kernel on the CPU (default: fusedAttentionKernel's choice, the addon's for a float32 cache). */
  fusedAttention?: AttentionKernel;
}

/** One forward pass over a batch: B rows, S new tokens each, P past positions (left-padded). */
export interface ForwardInput {
  batch: number;
  seqLen: number;
  pastLen: number;
  inputIds: BigInt64Array; // [batch, seqLen]
  attentionMask: BigInt64Array; // [batch, pastLen + seqLen]
  positionIds: BigInt64Array; // [batch, seqLen]
  past: KvTensors | undefined; // per KvSpec.pastNames, [batch, kvHeads, pastLen, headDim]; undefined = empty
  /**
   * Logits wanted per row, counted back from the last position (0 or undefined: every position). Honoured only by
   * a graph with a `num_logits_to_keep` input (see DecoderSession.trimsLogits); others return every position.
   */
  keepLogits?: number;
}

export interface ForwardOutput {
  logits: Float32Array; // [batch, logitsPerRow, vocab]
  vocab: number;
  /** Positions with logits per row: seqLen, or the last keepLogits of them when the graph trims. */
  logitsPerRow: number;
  present: KvTensors; // per KvSpec.presentNames, [batch, kvHeads, pastLen + seqLen, headDim]
  /** Each row's argmax at its last position, where the session thread computed it natively (see greedyTokens). */
  greedy?: Int32Array;
}

/**
 * A fused graph's passes (GroupQueryAttention with the KV cache in a pool of fixed-capacity slots, written in place;
 * see fused-kv-pool.ts). Sessions of such graphs have this and no usable `forward`.
 */
export interface FusedPasses {
  /**
   * Runs the passes over `pool` from now on (the engine's pool, over SharedArrayBuffers when the session lives in
   * another thread). Without it the first pass allocates a private pool of its dimensions.
   */
  bind(pool: FusedKvPool): Promise<void>;
  forward(input: FusedForwardInput): Promise<FusedForwardOutput>;
  /**
   * The passes hand back every row's greedy token computed by the graph on the device (greedy_tokens), so a decode
   * step may ask for some rows' logits only (FusedForwardInput.logitRows): a greedy batch downloads ids, not logits.
   */
  greedyOnDevice?: boolean;
  /**
   * A greedy run: up to `chain.steps` decode passes (seqLen 1) without a round trip to the engine between them —
   * after each pass the session thread feeds every row the greedy token it just got and starts the next, while
   * `onPass` takes the results in order. The run ends after a pass in which some row drew one of `chain.stopTokens`,
   * or soon after onPass returns false (a pass already started still reports). Resolves after the last result.
   * Set where the session lives in its own thread (session-thread.ts).
   */
  forwardRun?(input: FusedForwardInput, chain: GreedyChain, onPass: (out: FusedForwardOutput) => boolean): Promise<void>;
}

/** The bounds of a greedy run (FusedPasses.forwardRun). */
export interface GreedyChain {
  /** Passes at most, the first included. */
  steps: number;
  /** Tokens that end a sequence (EOS, stop_token_ids): the run stops after a pass that drew one. */
  stopTokens: Int32Array;
}

export interface DecoderSession {
  kv: KvSpec;
  /** Set for a fused graph: the engine drives it through these passes instead of `forward` (see fused-step.ts). */
  fused?: FusedPasses;
  inputNames: readonly string[];
  /** The graph computes logits for the last positions only when asked (`num_logits_to_keep`, as optimum exports). */
  trimsLogits: boolean;
  /** The KV cache stays in device memory between steps (the native CUDA path). */
  kvOnDevice?: boolean;
  forward(input: ForwardInput): Promise<ForwardOutput>;
  /** New batch KV tensors holding `rows` in order, left-padded to the longest (the sources are consumed). */
  assembleKv(rows: KvLocation[]): Promise<{ tensors: KvTensors; pastLen: number }>;
  emptyPast(batch: number): ort.Tensor[];
  release(): Promise<void>;
}

/** The parts of a session's metadata KV discovery reads (an onnxruntime-node session or the native addon's). */
export type SessionMetadata = Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata'>;

function pastNamesFrom(session: SessionMetadata): string[] {
  return session.inputNames.filter((n) => n.startsWith('past_key_values.') || n.startsWith('past_key_'));
}

export function discoverKv(session: SessionMetadata, path: string): KvSpec {
  const pastNames = pastNamesFrom(session);
  if (pastNames.length === 0 || pastNames.length % 2 !== 0) {
    throw new FleetError('invalid_request', `${path} has no KV-cache inputs (past_key_values.N.key/value): export it with a KV cache (optimum --task text-generation-with-past)`, { code: 'unsupported_graph' });
  }
  const meta = session.inputMetadata.find((m) => m.name === pastNames[0]);
  if (!meta || !meta.isTensor) throw new FleetError('invalid_request', `${path}: cannot read metadata of ${pastNames[0]}`);
  const [, kvHeads, , headDim] = meta.shape;
  if (typeof kvHeads !== 'number' || typeof headDim !== 'number') {
    throw new FleetError('invalid_request', `${path}: ${pastNames[0]} must have fixed KV-head and head dimensions, got [${meta.shape.join(', ')}]`, { code: 'unsupported_graph' });
  }
  if (meta.type !== 'float32' && meta.type !== 'float16') {
    throw new FleetError('invalid_request', `${path}: KV cache of type ${meta.type} is not supported (float32 or float16)`, { code: 'unsupported_graph' });
  }
  const presentNames = pastNames.map((n) => n.replace(/^past_key_values\./, 'present.').replace(/^past_key_/, 'present_key_'));
  for (const p of presentNames) {
    if (!session.outputNames.includes(p)) throw new FleetError('invalid_request', `${path}: output ${p} missing for input ${pastNames[presentNames.indexOf(p)]}`, { code: 'unsupported_graph' });
  }
  if (!session.outputNames.includes('logits')) throw new FleetError('invalid_request', `${path}: output 'logits' missing`, { code: 'unsupported_graph' });
  const fused = isFusedGraph(session.inputNames);
  for (const required of fused ? ['input_ids'] : ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(required)) throw new FleetError('invalid_request', `${path}: input '${required}' missing`, { code: 'unsupported_graph' });
  }
  return { layers: pastNames.length / 2, kvHeads, headDim, dtype: meta.type, pastNames, presentNames };
}

export async function createOrtSession(path: string, options: SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, {
      executionProviders: options.device ? executionProvidersFor(options.device) : ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      enableCpuMemArena: true,
      extra: { session: spinWaitConfig(options.threads) },
    });
  } catch (err) {
    if (options.device && options.device.kind !== 'cpu') {
      throw new FleetError('unavailable', `cannot create a ${options.device.kind} session for ${path}: ${(err as Error).message}`, { code: 'device_unavailable', cause: err });
    }
    throw new FleetError('invalid_request', `cannot load ONNX graph ${path}: ${(err as Error).message}`, { code: 'corrupt_graph', cause: err });
  }
}

function logitsAsFloat32(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return float16ToFloat32(tensor.data as Uint16Array);
  throw new FleetError('generation_failed', `logits of type ${tensor.type} are not supported`);
}

/** The optional scalar int64 input of optimum / transformers.js exports: logits for the last N positions, 0 = all. */
export const LOGITS_TO_KEEP_INPUT = 'num_logits_to_keep';

export function graphTrimsLogits(inputNames: readonly string[]): boolean {
  return inputNames.includes(LOGITS_TO_KEEP_INPUT);
}

export async function openDecoderSession(path: string, options: SessionOptions): Promise<DecoderSession> {
  const session = await createOrtSession(path, options);
  const kv = discoverKv(session, path);
  const hasPositions = session.inputNames.includes('position_ids');
  const hasCacheBranch = session.inputNames.includes('use_cache_branch');
  const trimsLogits = graphTrimsLogits(session.inputNames);
  const emptyPast = (batch: number): ort.Tensor[] =>
    kv.pastNames.map(() => new ort.Tensor(kv.dtype, kv.dtype === 'float32' ? new Float32Array(0) : new Uint16Array(0), [batch, kv.kvHeads, 0, kv.headDim]));
  const forward = async (input: ForwardInput): Promise<ForwardOutput> => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', input.inputIds, [input.batch, input.seqLen]),
      attention_mask: new ort.Tensor('int64', input.attentionMask, [input.batch, input.pastLen + input.seqLen]),
    };
    if (hasPositions) feeds.position_ids = new ort.Tensor('int64', input.positionIds, [input.batch, input.seqLen]);
    if (hasCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [input.pastLen > 0], [1]);
    if (trimsLogits) feeds[LOGITS_TO_KEEP_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(input.keepLogits ?? 0)), []);
    const past = input.past ? hostKv(input.past) : emptyPast(input.batch);
    kv.pastNames.forEach((name, i) => {
      feeds[name] = past[i];
    });
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds);
    } catch (err) {
      throw new FleetError('generation_failed', `forward pass failed: ${(err as Error).message}`, { cause: err });
    }
    const logitsTensor = out.logits;
    const vocab = logitsTensor.dims[logitsTensor.dims.length - 1];
    const logitsPerRow = logitsTensor.dims[logitsTensor.dims.length - 2];
    return { logits: logitsAsFloat32(logitsTensor), vocab, logitsPerRow, present: kv.presentNames.map((n) => out[n]) };
  };
  const assembleKv = (rows: KvLocation[]): Promise<{ tensors: KvTensors; pastLen: number }> => Promise.resolve(assembleBatchKv(kv, rows));
  return { kv, inputNames: session.inputNames, trimsLogits, fused: isFusedGraph(session.inputNames) ? fusedPasses(ortNodeRunner(session), kv) : undefined, forward, assembleKv, emptyPast, release: () => session.release() };
}

/** Passes of a fused graph over its in-place KV pool (a bound one, else allocated at the first pass with its dimensions). */
export function fusedPasses(run: BoundRunner, kv: KvSpec): FusedPasses {
  let pool: FusedKvPool | undefined;
  return {
    bind: (p) => {
      pool = p;
      return Promise.resolve();
    },
    forward: async (input) => {
      pool ??= new FusedKvPool(kv, input.slots, input.capacity);
      if (pool.slots !== input.slots || pool.capacity !== input.capacity) throw new FleetError('internal', `a pass for a pool of ${input.slots} × ${input.capacity} positions over one of ${pool.slots} × ${pool.capacity}`);
      return runFused(run, kv, pool, input);
    },
  };
}
