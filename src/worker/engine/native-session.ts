/**
 * The decoder over the `ort_device` addon (native/ort-device), used inside the session thread. The addon drives the
 * same libonnxruntime.so.1 that onnxruntime-node ships, through the C API's IO binding: `present.*` outputs stay in
 * device memory (CUDA) and are fed back as `past.*`, so a decode step moves only ids, masks and logits across PCIe.
 *
 * KV sets live here, keyed by integer ids that the engine holds as DeviceKvRef. Ownership follows the engine's use:
 * a set fed to a forward pass is consumed by it (freed once the pass returns), and an assembly consumes its sources
 * and frees every other set still held (at that point every running sequence is in the assembled batch).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FleetError } from '../../common/errors';
import { bindingDir, defaultGpuRuntimeDir } from '../device/runtime-libs';
import { float16ToFloat32 } from './float16';
import type { BoundRunner, BoundTensor } from './fused-kv-pool';
import { discoverKv, graphTrimsLogits, LOGITS_TO_KEEP_INPUT, type KvSpec, type SessionMetadata } from './session';

type Opaque = { readonly __opaque: unique symbol };
type Feed = [name: string, type: number, dims: number[], data: ArrayBufferView];

interface OrtDeviceAddon {
  load(libonnxruntime: string): string;
  /** attention 'fleetchat' (CPU only): GroupQueryAttention nodes run on the addon's own kernel (native/ort-device/gqa_cpu.c). */
  createSession(path: string, device: 'cpu' | 'cuda', deviceId: number, threads: number, allowTf32: boolean, profilePrefix?: string, cudaGraph?: boolean, attention?: AttentionKernel): { session: Opaque; inputs: Array<{ name: string; type: number; dims: number[] }>; outputs: string[] };
  run(session: Opaque, feeds: Feed[], pastNames: string[], past: Opaque | null, logitsName: string, presentNames: string[]): [Float32Array | Uint16Array, number[], Opaque];
  assemble(session: Opaque, rows: Array<[Opaque, number, number, number]>, pastLen: number): Opaque;
  runBound(session: Opaque, feeds: BoundTensor[], outputs: BoundTensor[], logitsName: string): [Float32Array | Uint16Array, number[]];
  freeKv(kv: Opaque): void;
  releaseSession(session: Opaque): void;
  memInfo(): [number, number];
  argmaxRows(logits: Float32Array, rows: number, perRow: number, vocab: number): Int32Array;
  createPool(session: Opaque, buffers: number, slots: number, kvHeads: number, capacity: number, headDim: number, type: number): Opaque;
  poolMove(pool: Opaque, from: number, to: number, length: number): void;
  /**
   * graphBatch > 0: a decode pass over a static bucket of that many rows (padding rows free slots), its inputs and
   * outputs at fixed addresses: a CUDA graph per bucket on a cudaGraph session. greedyName: the graph's argmax output,
   * whose tokens come back (third element). logitRows (needs greedyName): the rows whose logits come down, in order.
   */
  runPool(session: Opaque, pool: Opaque, feeds: BoundTensor[], pastNames: string[], presentNames: string[], slot: number, batch: number, logitsName: string, graphBatch: number, vocab: number, greedyName?: string, logitRows?: Int32Array): [Float32Array | Uint16Array, number[], Int32Array | undefined];
  freePool(pool: Opaque): void;
  /** The values createSession's `attention` takes; not called: its presence marks a build with gqa_cpu.c (ADDON_FUNCTIONS). */
  attentionKernels(): AttentionKernel[];
  /** The KV caches the addon's attention kernel takes under float32 queries; not called: marks a build whose kernel takes float16 caches. */
  attentionCacheTypes(): Array<'float32' | 'float16'>;
}

/**
 * Which kernel runs a fused graph's GroupQueryAttention on the CPU: onnxruntime's, or the addon's (gqa_cpu.c: each
 * KV head's cache read once per query row for all the query heads that share it, where onnxruntime's reads it once
 * per query head).
 */
export type AttentionKernel = 'onnxruntime' | 'fleetchat';

/**
 * The attention kernel for a fused graph on the addon's CPU session when the graph's cache is float32 (a float16
 * cache has the addon's kernel written into the graph; onnxruntime's CUDA sessions never ask): the addon's, at any
 * intra-op thread count (it spreads its work over onnxruntime's threads; measured on 16 cores, bench/gpu/cpu-attention:
 * 13–41 % less time than onnxruntime's at 2,000 cached positions with 2–16 threads, within 9 % at 100);
 * FLEETCHAT_FUSED_ATTENTION=onnxruntime chooses onnxruntime's.
 */
export function fusedAttentionKernel(cacheType: string, env: NodeJS.ProcessEnv = process.env): AttentionKernel {
  if (cacheType !== 'float32' || env.FLEETCHAT_FUSED_ATTENTION === 'onnxruntime') return 'onnxruntime';
  return 'fleetchat';
}

export type { Opaque as AddonHandle, OrtDeviceAddon };

const TYPE_INT64 = 7;
const TYPE_BOOL = 9;
const TYPE_NAMES: Record<number, 'float32' | 'float16' | 'int64' | 'bool'> = { 1: 'float32', 10: 'float16', 7: 'int64', 9: 'bool' };

function repoRoot(from: string): string | undefined {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native', 'ort-device'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/** Where the built addon is looked for: FLEETCHAT_ORT_DEVICE_ADDON, the GPU runtime directory, the repo's build/. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = repoRoot(__dirname);
  return [env.FLEETCHAT_ORT_DEVICE_ADDON ?? '', join(defaultGpuRuntimeDir(), 'ort_device.node'), root ? join(root, 'native', 'ort-device', 'build', 'ort_device.node') : ''].filter((p) => p !== '');
}

let addon: OrtDeviceAddon | undefined;

/** Every function the TypeScript side calls, and attentionKernels / attentionCacheTypes (the kernel's markers): a build older than the C source lacks some (caught at load, by name). */
const ADDON_FUNCTIONS = ['load', 'createSession', 'run', 'assemble', 'runBound', 'freeKv', 'releaseSession', 'memInfo', 'createPool', 'poolMove', 'runPool', 'freePool', 'argmaxRows', 'attentionKernels', 'attentionCacheTypes'] as const satisfies ReadonlyArray<keyof OrtDeviceAddon>;

function isComplete(loaded: Partial<OrtDeviceAddon>): loaded is OrtDeviceAddon {
  return ADDON_FUNCTIONS.every((name) => typeof loaded[name] === 'function');
}

/** Loads the addon (once); throws `unavailable` naming where it looked when it is not built. */
export function loadOrtDeviceAddon(): OrtDeviceAddon {
  if (addon) return addon;
  const path = addonCandidates().find((p) => existsSync(p));
  if (!path) throw new FleetError('unavailable', `the ort_device addon is not built (looked in ${addonCandidates().join(', ')}); build it with scripts/build-ort-device`, { code: 'device_unavailable' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(path) as Partial<OrtDeviceAddon>;
  if (!isComplete(loaded)) {
    const missing = ADDON_FUNCTIONS.filter((name) => typeof loaded[name] !== 'function');
    throw new FleetError('unavailable', `the ort_device addon at ${path} is older than its source (no ${missing.join(', ')}); rebuild it with scripts/build-ort-device`, { code: 'device_unavailable' });
  }
  loaded.load(join(bindingDir(), 'libonnxruntime.so.1'));
  addon = loaded;
  return loaded;
}

export interface NativeForward {
  batch: number;
  seqLen: number;
  pastLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  positionIds: BigInt64Array;
  pastKv: number | null;
  keepLogits?: number;
}

export interface NativeSession {
  kv: KvSpec;
  inputNames: readonly string[];
  forward(input: NativeForward): { logits: Float32Array; vocab: number; logitsPerRow: number; presentKv: number };
  assemble(rows: Array<{ kv: number; row: number; padded: number; length: number }>, pastLen: number): number;
  release(): void;
}

export interface NativeSessionOptions {
  device: 'cpu' | 'cuda';
  deviceId: number;
  threads: number;
  allowTf32: boolean;
  /** Static decode buckets replayed as CUDA graphs (fused graphs through device-kv-pool.ts; on the CPU EP the same buckets without graphs). */
  cudaGraph?: boolean;
  /** The CPU kernel of a fused graph's GroupQueryAttention (default onnxruntime's). */
  attention?: AttentionKernel;
}

/** An addon session and what discovery reads of it (inputs, the KV layout). */
export function createAddonSession(lib: OrtDeviceAddon, path: string, options: NativeSessionOptions): { created: ReturnType<OrtDeviceAddon['createSession']>; kv: KvSpec; names: readonly string[] } {
  let created: ReturnType<OrtDeviceAddon['createSession']>;
  try {
    created = lib.createSession(path, options.device, options.deviceId, options.threads, options.allowTf32, undefined, options.cudaGraph ?? false, options.attention ?? 'onnxruntime');
  } catch (err) {
    const kind = options.device === 'cpu' ? 'invalid_request' : 'unavailable';
    throw new FleetError(kind, `cannot create a ${options.device} session for ${path}: ${(err as Error).message}`, { code: options.device === 'cpu' ? 'corrupt_graph' : 'device_unavailable', cause: err });
  }
  const meta: SessionMetadata = {
    inputNames: created.inputs.map((i) => i.name),
    outputNames: created.outputs,
    inputMetadata: created.inputs.map((i) => ({ name: i.name, isTensor: true as const, type: TYPE_NAMES[i.type] ?? 'float32', shape: i.dims.map((d) => (d < 0 ? 'dynamic' : d)) })),
  };
  return { created, kv: discoverKv(meta, path), names: meta.inputNames };
}

export function openNativeSession(path: string, options: NativeSessionOptions): NativeSession {
  const lib = loadOrtDeviceAddon();
  const { created, kv, names } = createAddonSession(lib, path, options);
  const hasPositions = names.includes('position_ids');
  const hasCacheBranch = names.includes('use_cache_branch');
  const trims = graphTrimsLogits(names);
  const kvType = kv.dtype === 'float32' ? 1 : 10;
  const sets = new Map<number, Opaque>();
  let nextId = 1;
  const free = (id: number): void => {
    const set = sets.get(id);
    if (!set) return;
    sets.delete(id);
    lib.freeKv(set);
  };
  const keep = (set: Opaque): number => {
    const id = nextId++;
    sets.set(id, set);
    return id;
  };
  return {
    kv,
    inputNames: names,
    forward: (input) => {
      const feeds: Feed[] = [
        ['input_ids', TYPE_INT64, [input.batch, input.seqLen], input.inputIds],
        ['attention_mask', TYPE_INT64, [input.batch, input.pastLen + input.seqLen], input.attentionMask],
      ];
      if (hasPositions) feeds.push(['position_ids', TYPE_INT64, [input.batch, input.seqLen], input.positionIds]);
      if (hasCacheBranch) feeds.push(['use_cache_branch', TYPE_BOOL, [1], Uint8Array.of(input.pastLen > 0 ? 1 : 0)]);
      if (trims) feeds.push([LOGITS_TO_KEEP_INPUT, TYPE_INT64, [], BigInt64Array.of(BigInt(input.keepLogits ?? 0))]);
      const past = input.pastKv === null ? null : sets.get(input.pastKv);
      if (input.pastKv !== null && !past) throw new FleetError('internal', `KV set ${input.pastKv} is no longer held`);
      if (!past) {
        const empty = kv.dtype === 'float32' ? new Float32Array(0) : new Uint16Array(0);
        for (const name of kv.pastNames) feeds.push([name, kvType, [input.batch, kv.kvHeads, 0, kv.headDim], empty]);
      }
      let out: [Float32Array | Uint16Array, number[], Opaque];
      try {
        out = lib.run(created.session, feeds, kv.pastNames, past ?? null, 'logits', kv.presentNames);
      } catch (err) {
        throw new FleetError('generation_failed', `forward pass failed: ${(err as Error).message}`, { cause: err });
      }
      if (input.pastKv !== null) free(input.pastKv);
      const [raw, dims, present] = out;
      const logits = raw instanceof Uint16Array ? float16ToFloat32(raw) : raw;
      return { logits, vocab: dims[dims.length - 1], logitsPerRow: dims[dims.length - 2], presentKv: keep(present) };
    },
    assemble: (rows, pastLen) => {
      const sources = rows.map((r): [Opaque, number, number, number] => {
        const set = sets.get(r.kv);
        if (!set) throw new FleetError('internal', `KV set ${r.kv} is no longer held`);
        return [set, r.row, r.padded, r.length];
      });
      const assembled = lib.assemble(created.session, sources, pastLen);
      for (const id of [...sets.keys()]) free(id);
      return keep(assembled);
    },
    release: () => {
      for (const id of [...sets.keys()]) free(id);
      lib.releaseSession(created.session);
    },
  };
}

/** The addon is built (somewhere it is looked for). */
export function ortDeviceAddonBuilt(): boolean {
  return addonCandidates().some((p) => existsSync(p));
}

/**
 * A CPU session of the addon that runs a fused graph with its KV pool bound as both input and output (runBound):
 * nothing but the logits is copied per pass, where onnxruntime-node hands every fetched output back as a copy.
 */
export function openNativeBoundRunner(path: string, threads: number, profilePrefix?: string, attention: AttentionKernel = 'onnxruntime'): { run: BoundRunner; release: () => void } {
  const lib = loadOrtDeviceAddon();
  let created: ReturnType<OrtDeviceAddon['createSession']>;
  try {
    // profilePrefix: onnxruntime's profiler on, its JSON written as <prefix>_<time>.json at release (bench:fused-profile).
    created = lib.createSession(path, 'cpu', 0, threads, false, profilePrefix, false, attention);
  } catch (err) {
    throw new FleetError('invalid_request', `cannot create a cpu session for ${path}: ${(err as Error).message}`, { code: 'corrupt_graph', cause: err });
  }
  return { run: boundRunner(lib, created.session), release: () => lib.releaseSession(created.session) };
}

/** runBound over an addon CPU session as a BoundRunner (logits converted to float32 when the graph's are float16). */
export function boundRunner(lib: OrtDeviceAddon, session: Opaque): BoundRunner {
  return (feeds, bound) => {
    const [logits, dims] = lib.runBound(session, feeds, bound, 'logits');
    return Promise.resolve({ logits: logits instanceof Uint16Array ? float16ToFloat32(logits) : logits, dims });
  };
}

/**
 * Each row's greedy token — the index of its largest logit at its last position, exactly as the engine's
 * JavaScript argmax picks it (first of ties, NaN never wins) — computed by the addon (~9× faster on a
 * vocabulary of 50k), or undefined where the addon is not built. `logits`: [rows, logitsPerRow, vocab].
 */
export function greedyTokens(logits: Float32Array, logitsPerRow: number, vocab: number): Int32Array | undefined {
  const lib = argmaxAddon();
  if (!lib) return undefined;
  const rows = Math.floor(logits.length / Math.max(1, logitsPerRow * vocab));
  return lib.argmaxRows(logits, rows, logitsPerRow, vocab);
}

let argmaxUnavailable = false;

/**
 * The addon for greedyTokens, or undefined (then the sampler's own argmax runs): not built, or a build too old to load.
 * Looked up at the first pass only (not at every pass: the lookup tests up to three paths on disk).
 */
function argmaxAddon(): OrtDeviceAddon | undefined {
  if (addon) return addon;
  if (argmaxUnavailable) return undefined;
  try {
    if (ortDeviceAddonBuilt()) return loadOrtDeviceAddon();
  } catch {
    // paths that need the addon itself report why when they load it
  }
  argmaxUnavailable = true;
  return undefined;
}
