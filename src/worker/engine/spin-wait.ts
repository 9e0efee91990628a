/**
 * Whether onnxruntime's intra-op threads spin-wait between parallel sections. Spinning saves a thread wake-up per
 * operator, but a spinning thread keeps its core busy for the whole generation. When the intra-op threads take
 * every core (the default `--threads` is the core count), that starves the worker's own event loop — which
 * serialises and sends each token — and every process beside it (a gateway, a sidecar): measured on a 2-core machine
 * with controller, worker and gateway, spinning tripled the worker's CPU per request (~600 vs ~170 ms for 128 tokens
 * of the tiny model) and added 1–3 ms to the time to first token through either front door. So threads spin only
 * when at least one core is left free.
 */
import { availableParallelism } from 'node:os';

export function spinWaitAllowed(threads: number, cores = availableParallelism()): boolean {
  return threads < cores;
}

/** onnxruntime session config entries (`session.intra_op.allow_spinning` / `inter_op`) for that choice. */
export function spinWaitConfig(threads: number, cores = availableParallelism()): { intra_op: { allow_spinning: '0' | '1' }; inter_op: { allow_spinning: '0' | '1' } } {
  const allow = spinWaitAllowed(threads, cores) ? '1' : '0';
  return { intra_op: { allow_spinning: allow }, inter_op: { allow_spinning: allow } };
}
