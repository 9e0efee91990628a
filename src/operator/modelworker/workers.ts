/**
 * Which registered workers belong to a ModelWorker. The Deployment starts each worker with
 * `--worker-id <namespace>.<pod name>`; pod names of a Deployment are `<name>-<replicaset hash>-<5 chars>`, so the
 * id pattern below matches exactly this ModelWorker's pods (namespaces hold no '.', hashes no '-'), with the `.gpu<i>`
 * suffix of a pod that runs one worker per GPU (gpu-workers.ts). A worker that
 * carries the label `fleetchat.dev/model-worker: <namespace>/<name>` matches too.
 */
import type { WorkerInfo } from '../../common/gen/controller';
import { MODEL_WORKER_LABEL } from './labels';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function workerIdPattern(namespace: string, name: string): RegExp {
  return new RegExp(`^${escapeRegExp(namespace)}\\.${escapeRegExp(name)}-[a-z0-9]{1,10}-[a-z0-9]{5}(\\.gpu[0-9]{1,2})?$`);
}

export function workersOf(workers: readonly WorkerInfo[], namespace: string, name: string): WorkerInfo[] {
  const pattern = workerIdPattern(namespace, name);
  const label = `${namespace}/${name}`;
  return workers.filter((w) => w.labels[MODEL_WORKER_LABEL] === label || pattern.test(w.workerId));
}

/** Requests waiting or running on the given workers (the autoscaler's load). */
export function loadOf(workers: readonly WorkerInfo[]): number {
  return workers.reduce((sum, w) => sum + (w.status?.queueLength ?? 0) + (w.status?.running ?? 0), 0);
}
