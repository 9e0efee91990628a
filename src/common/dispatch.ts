/**
 * Choosing a worker for a request, as FastChat's controller does: `shortest_queue` (the least loaded relative to
 * its capacity, counting requests the chooser itself sent since the worker's last report) or `lottery` (random,
 * weighted by speed). Pure; shared by the controller (GetWorkerAddress) and the gateway (local dispatch from its
 * live view of the workers).
 */
import { FleetError } from './errors';
import type { WorkerInfo } from './gen/controller';
import { ModelKind, type WorkerStatus } from './gen/worker';
import { ANONY_ONLY_LABEL } from './worker-labels';

export type DispatchMethodName = 'shortest_queue' | 'lottery';

export interface DispatchCandidate {
  status: WorkerStatus | undefined;
  /** Requests sent to this worker that its last reported status does not include yet. */
  pending: number;
}

/** Requests per slot: queued, running and not yet reported, over the worker's concurrency. */
export function loadOf(c: DispatchCandidate): number {
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
  const loads = live.map(loadOf);
  const best = Math.min(...loads);
  const tied = live.filter((_, i) => loads[i] === best);
  return tied[Math.floor(random() * tied.length)];
}

/** One served model name across the workers that serve it. */
export interface ModelTotals {
  name: string;
  kind: ModelKind;
  workers: number;
  /** The smallest context length among its workers (a request must fit any of them). */
  contextLength: number;
  queueLength: number;
  running: number;
  maxConcurrency: number;
  /** Every worker serving it is labelled anonymous-only (see worker-labels.ts). */
  anonyOnly: boolean;
}

/** Per-model totals over a set of workers, sorted by name; shared by the controller (ListModels) and the gateway. */
export function modelTotals(workers: Iterable<WorkerInfo>): ModelTotals[] {
  const byName = new Map<string, ModelTotals>();
  for (const w of workers) {
    for (const name of w.modelNames) {
      const m = byName.get(name) ?? { name, kind: w.kind, workers: 0, contextLength: w.contextLength, queueLength: 0, running: 0, maxConcurrency: 0, anonyOnly: true };
      m.workers += 1;
      m.anonyOnly &&= w.labels[ANONY_ONLY_LABEL] === 'true';
      m.contextLength = Math.min(m.contextLength || w.contextLength, w.contextLength || m.contextLength);
      m.queueLength += w.status?.queueLength ?? 0;
      m.running += w.status?.running ?? 0;
      m.maxConcurrency += w.status?.maxConcurrency ?? 0;
      if (m.kind === ModelKind.MODEL_KIND_UNSPECIFIED) m.kind = w.kind;
      byName.set(name, m);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
