/**
 * Fused graphs whose attention only fleetchat's kernel runs: a float16 KV cache under float32 (int8, int4)
 * activations (`--kv-cache fp16`, marked in the graph's metadata; see graph-metadata.ts). onnxruntime's own
 * GroupQueryAttention ties the cache type to the query type — it would run such a graph only through Casts of every
 * layer's whole cache inserted around it each pass — so the worker opens it on the ort_device addon with its own CPU
 * kernel (native/ort-device/gqa_cpu.c), at any thread count, or refuses it saying why.
 */
import type { ResolvedDevice } from '../device/execution-provider';
import { FleetError } from '../../common/errors';
import { createAddonSession, boundRunner, loadOrtDeviceAddon, type AttentionKernel, type OrtDeviceAddon } from './native-session';
import { fusedPasses, graphTrimsLogits, type DecoderSession } from './session';

const WHAT = 'keeps its KV cache in float16 under float32 activations (--kv-cache fp16), which only fleetchat\'s CPU attention kernel runs';

/**
 * The addon, checked to run `path` here: on the CPU, with fleetchat's kernel, a build whose kernel takes float16
 * caches. Throws a FleetError naming what is missing: another device (code device_unavailable, so that `--device
 * auto` falls back to the CPU), onnxruntime's kernel asked for, or the addon not built / too old.
 */
export function fleetchatAttentionAddon(path: string, device: ResolvedDevice | undefined, asked: AttentionKernel | undefined): OrtDeviceAddon {
  if (device !== undefined && device.kind !== 'cpu') {
    throw new FleetError('unavailable', `${path} ${WHAT}: it does not run on ${device.kind}; use --device cpu, or import the model with --kv-cache fp32`, { code: 'device_unavailable' });
  }
  if (asked === 'onnxruntime') {
    throw new FleetError('invalid_request', `${path} ${WHAT}; onnxruntime's GroupQueryAttention was asked for (FLEETCHAT_FUSED_ATTENTION / fusedAttention), which would convert every layer's whole cache each pass: leave the choice to the worker, or import the model with --kv-cache fp32`, { code: 'unsupported_graph' });
  }
  try {
    return loadOrtDeviceAddon();
  } catch (err) {
    throw new FleetError('unavailable', `${path} ${WHAT}, and that kernel is in the ort_device addon, which cannot be used here: ${(err as Error).message}`, { code: 'attention_kernel_unavailable', cause: err });
  }
}

/** A session of such a graph on the addon (host KV pool bound in place, see fused-kv-pool.ts); the engine drives `fused`. */
export function openFleetchatAttentionSession(lib: OrtDeviceAddon, path: string, threads: number): DecoderSession {
  const { created, kv, names } = createAddonSession(lib, path, { device: 'cpu', deviceId: 0, threads, allowTf32: false, attention: 'fleetchat' });
  if (kv.dtype !== 'float16') {
    lib.releaseSession(created.session);
    throw new FleetError('invalid_request', `${path} is marked for fleetchat's attention kernel but its KV cache is ${kv.dtype}, not float16`, { code: 'unsupported_graph' });
  }
  const notForFused = (): never => {
    throw new FleetError('internal', 'a fused graph runs through its passes (session.fused), not forward / assembleKv');
  };
  return {
    kv,
    inputNames: names,
    trimsLogits: graphTrimsLogits(names),
    fused: fusedPasses(boundRunner(lib, created.session), kv),
    forward: notForFused,
    assembleKv: notForFused,
    emptyPast: notForFused,
    release: () => Promise.resolve(lib.releaseSession(created.session)),
  };
}
