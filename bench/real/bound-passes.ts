/**
 * Decode passes of a fused graph through the addon's runBound alone (no engine): one row at a given number of cached
 * positions, over a KV pool of the given capacity written with a constant (memory never written would be the kernel's
 * shared zero page, read from cache). For bench:fused-profile and bench/gpu/cpu-attention.ts.
 */
import { FusedKvPool, type BoundRunner } from '../../src/worker/engine/fused-kv-pool';
import { fusedPasses, type KvSpec } from '../../src/worker/engine/session';

/** `warmUp` untimed passes, then `steps` timed ones at `context` cached positions (and on); each timed pass's ms. */
export async function boundPasses(run: BoundRunner, kv: KvSpec, context: number, capacity: number, counts: { warmUp: number; steps: number }): Promise<number[]> {
  const p = fusedPasses(run, kv);
  const pool = new FusedKvPool(kv, 1, capacity);
  for (const m of pool.memory()) {
    if (kv.dtype === 'float32') new Float32Array(m).fill(0.01);
    else new Uint16Array(m).fill(0x211f); // 0.01 in half precision
  }
  await p.bind(pool);
  const times: number[] = [];
  for (let i = 0; i < counts.warmUp + counts.steps; i++) {
    const started = performance.now();
    await p.forward({ slots: 1, capacity, slot: 0, batch: 1, seqLen: 1, inputIds: BigInt64Array.of(42n), seqlensK: Int32Array.of(context + i), totalLength: context + i + 1, keepLogits: 1, moves: [] });
    if (i >= counts.warmUp) times.push(performance.now() - started);
  }
  return times;
}
