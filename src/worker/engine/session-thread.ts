/**
 * The session thread, as the engine sees it: a DecoderSession whose onnxruntime session lives in a worker thread, and
 * the messages between the two (the thread's side is session-worker.ts). Inputs and KV buffers are moved
 * (transferred, not copied) to the thread and the outputs moved back, so a forward pass costs the event loop
 * only two messages. A greedy run (FusedPasses.forwardRun) costs it one message out and one back per pass, and no
 * pass waits for the engine.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { FleetError, type ErrorKind } from '../../common/errors';
import type { ResolvedDevice } from '../device/execution-provider';
import type { FusedForwardInput, FusedForwardOutput } from './fused-kv-pool';
import { addonCandidates, type AttentionKernel, type NativeForward } from './native-session';
import { assembleBatchKv, graphTrimsLogits, isDeviceKv, type DecoderSession, type KvLocation, type ForwardInput, type FusedPasses, type ForwardOutput, type GreedyChain, type KvData, type KvSpec, type KvTensors, type SessionOptions } from './session';

/* Messages between the engine (main thread) and the session thread that runs onnxruntime. */

export interface OpenMessage {
  kind: 'open';
  path: string;
  threads: number;
  device?: ResolvedDevice;
  /** Keep the KV cache in device memory through the native addon (see native-session.ts). */
  nativeKv: boolean;
  /** A fused graph's GroupQueryAttention kernel on the CPU (see fusedAttentionKernel); default: fusedAttentionKernel's choice. */
  fusedAttention?: AttentionKernel;
}

/** A standard graph's pass: the addon's (NativeForward) with the past as host data when the cache is not on the device. */
export interface ForwardMessage extends Omit<NativeForward, 'pastKv'> {
  kind: 'forward';
  id: number;
  /** KV data per past input (moved, not copied), or null for an empty past. */
  past: Array<Float32Array | Uint16Array> | null;
  /** With a device-resident cache: the id of the past KV set (consumed by this pass), or null. */
  pastKv?: number | null;
}

/** Device-resident KV sets into one left-padded batch (consumes the sources, frees every other set). */
export interface AssembleMessage {
  kind: 'assemble';
  id: number;
  rows: Array<{ kv: number; row: number; padded: number; length: number }>;
  pastLen: number;
}

/** A pass of a fused graph over its in-place KV pool (which lives in the session thread). */
export interface FusedForwardMessage extends FusedForwardInput {
  kind: 'forwardFused';
  id: number;
  /** A greedy run of passes (see FusedPasses.forwardRun); `halt[0]` set to 1 by the engine ends it. */
  chain?: GreedyChain & { halt: Int32Array };
}

/** The engine's KV pool for a fused graph's passes from now on (SharedArrayBuffers, one per past input). */
export interface BindPoolMessage {
  kind: 'bindPool';
  id: number;
  slots: number;
  capacity: number;
  memory: ArrayBufferLike[];
}

export interface ReleaseMessage {
  kind: 'release';
}

export type ToSessionThread = OpenMessage | ForwardMessage | FusedForwardMessage | BindPoolMessage | AssembleMessage | ReleaseMessage;

export type FromSessionThread =
  | { kind: 'opened'; kv: KvSpec; inputNames: string[]; kvOnDevice: boolean; fused: boolean; greedyOnDevice: boolean }
  | { kind: 'fusedResult'; id: number; logits: Float32Array; vocab: number; logitsPerRow: number; greedy?: Int32Array; logitRows?: Int32Array; more?: boolean }
  | { kind: 'result'; id: number; logits: Float32Array; vocab: number; logitsPerRow: number; present: Array<Float32Array | Uint16Array>; presentKv?: number; greedy?: Int32Array }
  | { kind: 'assembled'; id: number; kv: number; pastLen: number }
  | { kind: 'poolBound'; id: number }
  | { kind: 'error'; id: number; message: string; code?: string; errorKind?: string }
  | { kind: 'released' };

/** The buffers of typed arrays, for a transfer list: each distinct buffer once, and only whole-buffer views. */
export function transferables(arrays: Array<ArrayBufferView>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) {
    const buffer = a.buffer as ArrayBuffer;
    if (a.byteOffset === 0 && a.byteLength === buffer.byteLength) seen.add(buffer);
  }
  return [...seen];
}

/** A typed array that owns its whole buffer (copies views into shared or larger buffers). */
export function owned<T extends Float32Array | Uint16Array | BigInt64Array | Int32Array>(a: T): T {
  if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  return a.slice() as T;
}

function entryFile(): { file: string; execArgv: string[] } {
  const js = join(__dirname, 'session-worker.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  const hasRegister = process.execArgv.some((a) => a.includes('@swc-node/register'));
  return { file: join(__dirname, 'session-worker.ts'), execArgv: hasRegister ? process.execArgv : [...process.execArgv, '--require', '@swc-node/register'] };
}

function toError(m: { message: string; code?: string; errorKind?: string }): FleetError {
  return new FleetError((m.errorKind as ErrorKind | undefined) ?? 'generation_failed', m.message, { code: m.code });
}

export async function openThreadedDecoderSession(path: string, options: SessionOptions): Promise<DecoderSession> {
  const { file, execArgv } = entryFile();
  const thread = new Worker(file, { execArgv });
  // onPass: a greedy run's entry, which every result of the run reaches; the last (more: false) settles it.
  const pending = new Map<number, { resolve: (m: FromSessionThread) => void; reject: (e: Error) => void; onPass?: (m: FromSessionThread & { kind: 'fusedResult' }) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const failAll = (err: Error): void => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  thread.on('error', (err) => failAll(new FleetError('generation_failed', `session thread failed: ${err.message}`, { cause: err })));
  thread.on('exit', (code) => failAll(new FleetError('generation_failed', `session thread exited (${code})`)));

  // CUDA keeps the KV cache on the GPU when the native addon is built; without it, onnxruntime-node's CUDA EP.
  const nativeKv = options.nativeKv ?? (options.device?.kind === 'cuda' && addonCandidates().some((p) => existsSync(p)));
  const opened = await new Promise<{ kv: KvSpec; inputNames: string[]; kvOnDevice: boolean; fused: boolean; greedyOnDevice: boolean }>((resolve, reject) => {
    const onMessage = (m: FromSessionThread): void => {
      thread.off('message', onMessage);
      if (m.kind === 'opened') resolve(m);
      else if (m.kind === 'error') reject(toError(m));
      else reject(new FleetError('internal', `unexpected message ${m.kind} from the session thread`));
    };
    thread.on('message', onMessage);
    thread.postMessage({ kind: 'open', path, threads: options.threads, device: options.device, nativeKv, fusedAttention: options.fusedAttention } satisfies ToSessionThread);
  }).catch(async (err: unknown) => {
    await thread.terminate();
    throw err;
  });

  thread.on('message', (m: FromSessionThread) => {
    if (m.kind !== 'result' && m.kind !== 'error' && m.kind !== 'assembled' && m.kind !== 'fusedResult' && m.kind !== 'poolBound') return;
    const p = pending.get(m.id);
    if (!p) return;
    if (m.kind === 'fusedResult' && p.onPass) {
      p.onPass(m);
      if (m.more === true) return;
    }
    pending.delete(m.id);
    if (m.kind === 'error') p.reject(toError(m));
    else p.resolve(m);
  });

  const { kv } = opened;
  const tensor = (data: KvData, dims: number[]): ort.Tensor => new ort.Tensor(kv.dtype, data, dims);

  const forward = async (input: ForwardInput): Promise<ForwardOutput> => {
    if (failure) throw failure;
    const id = nextId++;
    const pastKv = input.past && isDeviceKv(input.past) ? input.past.deviceKv : null;
    const past = input.past && !isDeviceKv(input.past) ? input.past.map((t) => owned(t.data as KvData)) : null;
    const message: ToSessionThread = { kind: 'forward', id, batch: input.batch, seqLen: input.seqLen, pastLen: input.pastLen, inputIds: owned(input.inputIds), attentionMask: owned(input.attentionMask), positionIds: owned(input.positionIds), past, pastKv, keepLogits: input.keepLogits };
    const result = await new Promise<FromSessionThread>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      thread.postMessage(message, transferables([message.inputIds, message.attentionMask, message.positionIds, ...(past ?? [])]));
    });
    if (result.kind !== 'result') throw new FleetError('internal', 'unexpected reply from the session thread');
    const totalLen = input.pastLen + input.seqLen;
    const present: KvTensors = result.presentKv !== undefined ? { deviceKv: result.presentKv } : result.present.map((d) => tensor(d, [input.batch, kv.kvHeads, totalLen, kv.headDim]));
    return { logits: result.logits, vocab: result.vocab, logitsPerRow: result.logitsPerRow, present, greedy: result.greedy };
  };

  const assembleKv = async (rows: KvLocation[]): Promise<{ tensors: KvTensors; pastLen: number }> => {
    if (!opened.kvOnDevice) return assembleBatchKv(kv, rows);
    if (failure) throw failure;
    const id = nextId++;
    const pastLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const deviceRows = rows.map((r) => {
      if (!isDeviceKv(r.tensors)) throw new FleetError('internal', 'host KV tensors cannot join a device-resident batch');
      return { kv: r.tensors.deviceKv, row: r.row, padded: r.padded, length: r.length };
    });
    const reply = await new Promise<FromSessionThread>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      thread.postMessage({ kind: 'assemble', id, rows: deviceRows, pastLen } satisfies ToSessionThread);
    });
    if (reply.kind !== 'assembled') throw new FleetError('internal', 'unexpected reply from the session thread');
    return { tensors: { deviceKv: reply.kv }, pastLen: reply.pastLen };
  };

  const emptyPast = (batch: number): ort.Tensor[] => kv.pastNames.map(() => tensor(kv.dtype === 'float32' ? new Float32Array(0) : new Uint16Array(0), [batch, kv.kvHeads, 0, kv.headDim]));

  const fusedOutput = (m: FromSessionThread & { kind: 'fusedResult' }): FusedForwardOutput => ({ logits: m.logits, vocab: m.vocab, logitsPerRow: m.logitsPerRow, greedy: m.greedy, logitRows: m.logitRows });
  const fusedMessage = (input: FusedForwardInput, id: number, chain?: FusedForwardMessage['chain']): FusedForwardMessage => ({ ...input, kind: 'forwardFused', id, inputIds: owned(input.inputIds), seqlensK: owned(input.seqlensK), logitRows: input.logitRows && owned(input.logitRows), chain });
  // Set by the engine to end a greedy run (shared with the thread, which reads it between passes); one run at a time.
  const halt = new Int32Array(new SharedArrayBuffer(4));

  const fused: FusedPasses | undefined = opened.fused
    ? {
        // The pool's SharedArrayBuffers are shared with the thread (not copied): passes there write what the engine reads here.
        bind: async (pool) => {
          if (failure) throw failure;
          if (pool.memory().some((m) => !(m instanceof SharedArrayBuffer))) throw new FleetError('internal', 'a KV pool bound to the session thread must live in SharedArrayBuffers');
          const id = nextId++;
          const reply = await new Promise<FromSessionThread>((resolve, reject) => {
            pending.set(id, { resolve, reject });
            thread.postMessage({ kind: 'bindPool', id, slots: pool.slots, capacity: pool.capacity, memory: pool.memory() } satisfies ToSessionThread);
          });
          if (reply.kind !== 'poolBound') throw new FleetError('internal', 'unexpected reply from the session thread');
        },
        forward: async (input) => {
          if (failure) throw failure;
          const id = nextId++;
          const message = fusedMessage(input, id);
          const reply = await new Promise<FromSessionThread>((resolve, reject) => {
            pending.set(id, { resolve, reject });
            thread.postMessage(message, transferables([message.inputIds, message.seqlensK]));
          });
          if (reply.kind !== 'fusedResult') throw new FleetError('internal', 'unexpected reply from the session thread');
          return fusedOutput(reply);
        },
        forwardRun: async (input, chain, onPass) => {
          if (failure) throw failure;
          if (input.seqLen !== 1) throw new FleetError('internal', 'a greedy run chains decode passes (seqLen 1)');
          const id = nextId++;
          Atomics.store(halt, 0, 0);
          const message = fusedMessage(input, id, { ...chain, halt });
          let failed: Error | undefined;
          await new Promise<void>((resolve, reject) => {
            // onPass runs in the message listener: what it throws ends the run and rejects it once the last pass is in.
            const take = (m: FromSessionThread & { kind: 'fusedResult' }): void => {
              if (failed !== undefined) return;
              try {
                if (!onPass(fusedOutput(m))) Atomics.store(halt, 0, 1);
              } catch (err) {
                failed = err instanceof Error ? err : new Error(String(err));
                Atomics.store(halt, 0, 1);
              }
            };
            pending.set(id, { resolve: () => (failed === undefined ? resolve() : reject(failed)), reject, onPass: take });
            thread.postMessage(message, transferables([message.inputIds, message.seqlensK]));
          });
        },
        greedyOnDevice: opened.greedyOnDevice,
      }
    : undefined;

  return {
    kv,
    fused,
    inputNames: opened.inputNames,
    trimsLogits: graphTrimsLogits(opened.inputNames),
    kvOnDevice: opened.kvOnDevice,
    forward,
    assembleKv,
    emptyPast,
    release: async () => {
      thread.removeAllListeners('exit');
      await thread.terminate();
    },
  };
}
