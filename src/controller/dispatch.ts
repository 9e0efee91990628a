/**
 * Choosing a worker for a model, as FastChat's controller does: `shortest_queue` (the least loaded relative to
 * its capacity, counting requests dispatched since its last heartbeat) or `lottery` (random, weighted by speed).
 * Pure: the registry entries and a random source come in, a choice comes out.
 */
import { FleetError } from '../common/errors';
import type { RegistryEntry } from './registry';

export type DispatchMethodName = 'shortest_queue' | 'lottery';

function load(entry: RegistryEntry): number {
  const s = entry.info.status;
  const capacity = Math.max(1, s?.maxConcurrency ?? 1);
  return ((s?.queueLength ?? 0) + (s?.running ?? 0) + entry.dispatchedSinceBeat) / capacity;
}

export function chooseWorker(
  candidates: RegistryEntry[],
  method: DispatchMethodName,
  random: () => number = Math.random,
): RegistryEntry {
  const live = candidates.filter((c) => !c.info.status?.draining);
  if (live.length === 0) throw new FleetError('unavailable', 'no live worker can take the request', { retryAfterS: 1 });
  if (method === 'lottery') {
    const weights = live.map((c) => Math.max(c.info.status?.speed ?? 0, 1e-3));
    const total = weights.reduce((a, b) => a + b, 0);
    let u = random() * total;
    for (let i = 0; i < live.length; i++) {
      u -= weights[i];
      if (u < 0) return live[i];
    }
    return live[live.length - 1];
  }
  const loads = live.map(load);
  const best = Math.min(...loads);
  const tied = live.filter((_, i) => loads[i] === best);
  return tied[Math.floor(random() * tied.length)];
}
