/**
 * Entry point of the session thread: owns the onnxruntime session so that forward passes never block the
 * worker's event loop (gRPC streams, heartbeats and cancellations keep flowing while the model runs). With a
 * device-resident KV cache (native-session.ts) the KV sets stay here and the engine holds their ids.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { FleetError } from '../../common/errors';
import { openDevicePoolSession } from './device-kv-pool';
import { fleetchatAttentionAddon, openFleetchatAttentionSession } from './fleetchat-attention';
import { FusedKvPool, isFusedGraph } from './fused-kv-pool';
import { needsFleetchatAttention } from './graph-metadata';
import { fusedAttentionKernel, greedyTokens, openNativeBoundRunner, openNativeSession, ortDeviceAddonBuilt, type NativeSession } from './native-session';
import { fusedPasses, hostKv, openDecoderSession, type DecoderSession } from './session';
import { owned, transferables, type FromSessionThread, type FusedForwardMessage, type OpenMessage, type ToSessionThread } from './session-thread';

let session: DecoderSession | undefined;
let native: NativeSession | undefined;

function post(message: FromSessionThread, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

function postError(id: number, err: unknown, fallbackKind: 'internal' | 'generation_failed'): void {
  const fe = err instanceof FleetError ? err : new FleetError(fallbackKind, (err as Error).message);
  post({ kind: 'error', id, message: fe.message, code: fe.code, errorKind: fe.kind });
}

async function open(message: OpenMessage): Promise<void> {
  const device = message.device;
  if (needsFleetchatAttention(message.path)) {
    // A float16 cache under float32 activations: the addon's own attention kernel, whatever the thread count.
    const lib = fleetchatAttentionAddon(message.path, device, message.fusedAttention);
    if (message.nativeKv) {
      session = openDevicePoolSession(message.path, { device: 'cpu', deviceId: 0, threads: message.threads, allowTf32: false, cudaGraph: device?.cudaGraph === true, attention: 'fleetchat' });
      post({ kind: 'opened', kv: session.kv, inputNames: [...session.inputNames], kvOnDevice: true, fused: true, greedyOnDevice: session.fused?.greedyOnDevice === true });
      return;
    }
    session = openFleetchatAttentionSession(lib, message.path, message.threads);
    post({ kind: 'opened', kv: session.kv, inputNames: [...session.inputNames], kvOnDevice: false, fused: true, greedyOnDevice: false });
    return;
  }
  if (message.nativeKv) {
    native = openNativeSession(message.path, { device: device?.kind === 'cuda' ? 'cuda' : 'cpu', deviceId: device?.deviceId ?? 0, threads: message.threads, allowTf32: device?.allowTf32 ?? false });
    if (!isFusedGraph(native.inputNames)) {
      post({ kind: 'opened', kv: native.kv, inputNames: [...native.inputNames], kvOnDevice: true, fused: false, greedyOnDevice: false });
      return;
    }
    // A fused graph: its in-place KV pool lives here too, in device memory (CUDA) or the addon's host memory (CPU EP).
    native.release();
    native = undefined;
    // cudaGraph on a CPU device (tests): the same static buckets, without graphs.
    const cudaGraph = device?.cudaGraph === true;
    session = openDevicePoolSession(message.path, { device: device?.kind === 'cuda' ? 'cuda' : 'cpu', deviceId: device?.deviceId ?? 0, threads: message.threads, allowTf32: device?.allowTf32 ?? false, cudaGraph });
    post({ kind: 'opened', kv: session.kv, inputNames: [...session.inputNames], kvOnDevice: true, fused: true, greedyOnDevice: session.fused?.greedyOnDevice === true });
    return;
  }
  session = await openDecoderSession(message.path, { threads: message.threads, device });
  if (session.fused && device !== undefined && device.kind !== 'cpu') {
    // Without the addon its KV pool is host memory: on a GPU every pass would copy the bound pool across PCIe.
    await session.release();
    session = undefined;
    throw new FleetError('unavailable', `${message.path} is a fused graph (GroupQueryAttention over an in-place KV pool): on ${device.kind} it runs through the ort_device addon (KV pool in device memory), which is not built; build it with scripts/build-ort-device (scripts/install-gpu-runtime does), use --device cpu (auto falls back to it), or import the model with --graph standard`, { code: 'device_unavailable' });
  }
  if (session.fused && ortDeviceAddonBuilt() && process.env.FLEETCHAT_FUSED_RUNNER !== 'onnxruntime-node') {
    // The addon's runBound copies only the logits per pass (onnxruntime-node copies every bound output back).
    const ortNode = session;
    const bound = openBoundRunner(message, ortNode.kv.dtype);
    await ortNode.release();
    session = { ...ortNode, fused: fusedPasses(bound.run, ortNode.kv), release: () => Promise.resolve(bound.release()) };
  }
  post({ kind: 'opened', kv: session.kv, inputNames: [...session.inputNames], kvOnDevice: false, fused: session.fused !== undefined, greedyOnDevice: false });
}

/**
 * The addon's runBound session for a fused graph, its attention on the kernel fusedAttentionKernel picks; a graph
 * whose GroupQueryAttention the addon's kernel refuses (a local window, softcap, ...) falls back to onnxruntime's
 * unless the caller asked for the addon's by name.
 */
function openBoundRunner(message: OpenMessage, cacheType: string): ReturnType<typeof openNativeBoundRunner> {
  const kernel = message.fusedAttention ?? fusedAttentionKernel(cacheType);
  try {
    return openNativeBoundRunner(message.path, message.threads, undefined, kernel);
  } catch (err) {
    if (kernel !== 'fleetchat' || message.fusedAttention !== undefined) throw err;
    return openNativeBoundRunner(message.path, message.threads, undefined, 'onnxruntime');
  }
}

/**
 * The pass after `pass` passes of a greedy run — every row feeds the greedy token it just got, one position further —
 * or undefined: not a run, its last pass, a stop token drawn, no greedy tokens, or the engine set the halt flag.
 */
function chainedPass(input: FusedForwardMessage, pass: number, greedy: Int32Array | undefined): FusedForwardMessage | undefined {
  const chain = input.chain;
  if (!chain || !greedy || pass >= chain.steps || Atomics.load(chain.halt, 0) !== 0) return undefined;
  if (greedy.some((token) => chain.stopTokens.includes(token))) return undefined;
  return { ...input, inputIds: BigInt64Array.from(greedy, (t) => BigInt(t)), seqlensK: input.seqlensK.map((k) => k + 1), totalLength: input.totalLength + 1, moves: [] };
}

async function handle(message: ToSessionThread): Promise<void> {
  if (message.kind === 'open') {
    try {
      await open(message);
    } catch (err) {
      postError(-1, err, 'internal');
    }
    return;
  }
  if (message.kind === 'release') {
    native?.release();
    await session?.release();
    post({ kind: 'released' });
    return;
  }
  if (message.kind === 'assemble') {
    try {
      if (!native) throw new FleetError('internal', 'assemble needs a device-resident KV cache');
      post({ kind: 'assembled', id: message.id, kv: native.assemble(message.rows, message.pastLen), pastLen: message.pastLen });
    } catch (err) {
      postError(message.id, err, 'generation_failed');
    }
    return;
  }
  if (message.kind === 'bindPool') {
    try {
      if (!session?.fused) throw new FleetError('internal', 'the session is not a fused graph');
      await session.fused.bind(new FusedKvPool(session.kv, message.slots, message.capacity, message.memory));
      post({ kind: 'poolBound', id: message.id });
    } catch (err) {
      postError(message.id, err, 'internal');
    }
    return;
  }
  if (message.kind === 'forwardFused') {
    try {
      if (!session?.fused) throw new FleetError('internal', 'the session is not a fused graph');
      // One pass, or a greedy run: pass after pass, each posted as it ends, until chainedPass says stop.
      for (let input: FusedForwardMessage | undefined = message, pass = 1; input; pass++) {
        const out = await session.fused.forward(input);
        const logits = owned(out.logits);
        // The graph's own tokens, or the addon's argmax over the rows (all of them: logitRows is set only with the graph's).
        const greedy = out.greedy ?? greedyTokens(logits, out.logitsPerRow, out.vocab);
        input = chainedPass(input, pass, greedy);
        post({ kind: 'fusedResult', id: message.id, logits, vocab: out.vocab, logitsPerRow: out.logitsPerRow, greedy, logitRows: out.logitRows, more: input !== undefined }, transferables(greedy ? [logits, greedy] : [logits]));
      }
    } catch (err) {
      postError(message.id, err, 'generation_failed');
    }
    return;
  }
  if (native) {
    try {
      const out = native.forward({ ...message, pastKv: message.pastKv ?? null });
      const logits = owned(out.logits);
      const greedy = greedyTokens(logits, out.logitsPerRow, out.vocab);
      post({ kind: 'result', id: message.id, logits, vocab: out.vocab, logitsPerRow: out.logitsPerRow, present: [], presentKv: out.presentKv, greedy }, transferables(greedy ? [logits, greedy] : [logits]));
    } catch (err) {
      postError(message.id, err, 'generation_failed');
    }
    return;
  }
  if (!session) {
    post({ kind: 'error', id: message.id, message: 'session is not open' });
    return;
  }
  try {
    const { kv } = session;
    const past = message.past?.map((data) => new ort.Tensor(kv.dtype, data, [message.batch, kv.kvHeads, message.pastLen, kv.headDim]));
    const out = await session.forward({ ...message, past });
    const logits = owned(out.logits);
    const present = hostKv(out.present).map((t) => owned(t.data as Float32Array | Uint16Array));
    const greedy = greedyTokens(logits, out.logitsPerRow, out.vocab);
    post({ kind: 'result', id: message.id, logits, vocab: out.vocab, logitsPerRow: out.logitsPerRow, present, greedy }, transferables(greedy ? [logits, greedy, ...present] : [logits, ...present]));
  } catch (err) {
    postError(message.id, err, 'generation_failed');
  }
}

parentPort?.on('message', (message: ToSessionThread) => {
  void handle(message);
});
