/**
 * Choosing a worker for a request, as FastChat's controller does: `shortest_queue` (the least loaded relative to
 * its capacity, counting requests the chooser itself sent since the worker's last report) or `lottery` (random,
 * weighted by speed). Pure; shared by the controller (GetWorkerAddress) and the gateway (local dispatch from its
 * live view of the workers).
 */
import { FleetError } from './errors';
import type { WorkerStatus } from './gen/worker';

export type DispatchMethodName = 'shortest_queue' | 'lottery';

export interface DispatchCandidate {
  status: WorkerStatus | undefined;
  /** Requests sent to this worker that its last reported status does not include yet. */
  pending: number;
}

function load(c: DispatchCandidate): number {
  const s = c.status;
  const capacity = Math.max(1, s?.maxConcurrency ?? 1);
  return ((s?.queueLength ?? 0) + (s?.running ?? 0) + c.pending) / capacity;
}

export function chooseCandidate<T extends DispatchCandidate>(candidates: T[], method: DispatchMethodName, random: () => number = Math.random): T {
  const live = candidates.filter((c) => !c.status?.draining);
  if (live.length === 0) throw new FleetError('unavailable', 'no live worker can take the request', { retryAfterS: 1 });
  if (method === 'lottery') {
    const weights = live.map((c) => Math.max(c.status?.speed ?? 0, 1e-3));
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
