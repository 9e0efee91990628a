/**
 * Entry point of the session thread: owns the onnxruntime session so that forward passes never block the
 * worker's event loop (gRPC streams, heartbeats and cancellations keep flowing while the model runs).
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { FleetError } from '../../common/errors';
import { openDecoderSession, type DecoderSession } from './session';
import { owned, transferables, type FromSessionThread, type ToSessionThread } from './session-protocol';

let session: DecoderSession | undefined;

function post(message: FromSessionThread, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

async function handle(message: ToSessionThread): Promise<void> {
  if (message.kind === 'open') {
    try {
      session = await openDecoderSession(message.path, { threads: message.threads, device: message.device });
      post({ kind: 'opened', kv: session.kv, inputNames: [...session.inputNames] });
    } catch (err) {
      const fe = err instanceof FleetError ? err : new FleetError('internal', (err as Error).message);
      post({ kind: 'error', id: -1, message: fe.message, code: fe.code, errorKind: fe.kind });
    }
    return;
  }
  if (message.kind === 'release') {
    await session?.release();
    post({ kind: 'released' });
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
    const present = out.present.map((t) => owned(t.data as Float32Array | Uint16Array));
    post({ kind: 'result', id: message.id, logits, vocab: out.vocab, logitsPerRow: out.logitsPerRow, present }, transferables([logits, ...present]));
  } catch (err) {
    const fe = err instanceof FleetError ? err : new FleetError('generation_failed', (err as Error).message);
    post({ kind: 'error', id: message.id, message: fe.message, code: fe.code, errorKind: fe.kind });
  }
}

parentPort?.on('message', (message: ToSessionThread) => {
  void handle(message);
});
