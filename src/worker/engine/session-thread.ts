/**
 * A DecoderSession whose onnxruntime session lives in a worker thread. Inputs and KV buffers are moved
 * (transferred, not copied) to the thread and the outputs moved back, so a forward pass costs the event loop
 * only two messages.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { FleetError, type ErrorKind } from '../../common/errors';
import { graphTrimsLogits, type DecoderSession, type ForwardInput, type ForwardOutput, type KvData, type KvSpec, type SessionOptions } from './session';
import { owned, transferables, type FromSessionThread, type ToSessionThread } from './session-protocol';

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
  const pending = new Map<number, { resolve: (m: FromSessionThread) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const failAll = (err: Error): void => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  thread.on('error', (err) => failAll(new FleetError('generation_failed', `session thread failed: ${err.message}`, { cause: err })));
  thread.on('exit', (code) => failAll(new FleetError('generation_failed', `session thread exited (${code})`)));

  const opened = await new Promise<{ kv: KvSpec; inputNames: string[] }>((resolve, reject) => {
    const onMessage = (m: FromSessionThread): void => {
      thread.off('message', onMessage);
      if (m.kind === 'opened') resolve(m);
      else if (m.kind === 'error') reject(toError(m));
      else reject(new FleetError('internal', `unexpected message ${m.kind} from the session thread`));
    };
    thread.on('message', onMessage);
    thread.postMessage({ kind: 'open', path, threads: options.threads, device: options.device } satisfies ToSessionThread);
  }).catch(async (err: unknown) => {
    await thread.terminate();
    throw err;
  });

  thread.on('message', (m: FromSessionThread) => {
    if (m.kind !== 'result' && m.kind !== 'error') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.kind === 'error') p.reject(toError(m));
    else p.resolve(m);
  });

  const { kv } = opened;
  const tensor = (data: KvData, dims: number[]): ort.Tensor => new ort.Tensor(kv.dtype, data, dims);

  const forward = async (input: ForwardInput): Promise<ForwardOutput> => {
    if (failure) throw failure;
    const id = nextId++;
    const past = input.past?.map((t) => owned(t.data as KvData)) ?? null;
    const message: ToSessionThread = { kind: 'forward', id, batch: input.batch, seqLen: input.seqLen, pastLen: input.pastLen, inputIds: owned(input.inputIds), attentionMask: owned(input.attentionMask), positionIds: owned(input.positionIds), past, keepLogits: input.keepLogits };
    const result = await new Promise<FromSessionThread>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      thread.postMessage(message, transferables([message.inputIds, message.attentionMask, message.positionIds, ...(past ?? [])]));
    });
    if (result.kind !== 'result') throw new FleetError('internal', 'unexpected reply from the session thread');
    const totalLen = input.pastLen + input.seqLen;
    return { logits: result.logits, vocab: result.vocab, logitsPerRow: result.logitsPerRow, present: result.present.map((d) => tensor(d, [input.batch, kv.kvHeads, totalLen, kv.headDim])) };
  };

  const emptyPast = (batch: number): ort.Tensor[] => kv.pastNames.map(() => tensor(kv.dtype === 'float32' ? new Float32Array(0) : new Uint16Array(0), [batch, kv.kvHeads, 0, kv.headDim]));

  return {
    kv,
    inputNames: opened.inputNames,
    trimsLogits: graphTrimsLogits(opened.inputNames),
    forward,
    emptyPast,
    release: async () => {
      thread.removeAllListeners('exit');
      await thread.terminate();
    },
  };
}
