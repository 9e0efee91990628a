/** Names, labels and annotations of the objects a ModelWorker owns. */
import { MODEL_WORKER_LABEL } from '../../common/worker-labels';

export const FIELD_MANAGER = 'fleetchat-operator';
export const FINALIZER = 'fleetchat.dev/deregister-workers';
export { MODEL_WORKER_LABEL };
export const SPEC_HASH_ANNOTATION = 'fleetchat.dev/spec-hash';
export const MANAGED_BY = 'fleetchat-operator';
export const WORKER_GRPC_PORT = 21011;
export const WORKER_METRICS_PORT = 21012;

/** The immutable selector of the Deployment and the Service. */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'fleetchat-worker', [MODEL_WORKER_LABEL]: name };
}

export function objectLabels(name: string): Record<string, string> {
  return {
    ...selectorLabels(name),
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': 'worker',
    'app.kubernetes.io/part-of': 'fleetchat',
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

/** `k=v,k=v` form of a label set (status.selector for the scale subresource). */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}
