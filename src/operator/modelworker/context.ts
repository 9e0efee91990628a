/** What a ModelWorker reconcile needs from the outside world, passed in explicitly (tests build their own). */
import type { V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import type { ModelWorker } from '../api/v1alpha1/types';
import type { WorkerDirectory } from '../runtime/controller-directory';
import type { EventRecorder } from '../runtime/events';
import type { KubeClient } from '../runtime/kube-client';
import type { WorkerCertificates } from '../tls/issuer';
import type { Recommendation } from './autoscale';

export interface ReconcileOptions {
  /** Worker image when a ModelWorker names none. */
  workerImage: string;
  /** Image of workers that request nvidia.com/gpu when a ModelWorker names none. */
  workerGpuImage: string;
  /** Controller gRPC address when a ModelWorker names none. */
  controllerAddress: string;
  /** How long the finalizer retries deregistration before letting the ModelWorker go. */
  finalizerTimeoutMs: number;
  /** Reconcile period of autoscaled or not-yet-ready ModelWorkers (the controller's registry is polled). */
  pollIntervalMs: number;
}

export interface ReconcileContext {
  kube: KubeClient;
  /** Cached reads (informers). */
  getModelWorker(namespace: string, name: string): ModelWorker | undefined;
  getDeployment(namespace: string, name: string): V1Deployment | undefined;
  directory: WorkerDirectory;
  events: EventRecorder;
  /** Autoscaler recommendation history per namespace/name. */
  scaleHistory: Map<string, Recommendation[]>;
  options: ReconcileOptions;
  /** Worker certificates / cluster token (absent: plaintext workers). */
  certificates?: WorkerCertificates;
  logger: Logger;
  now(): number;
}

export interface ReconcileResult {
  /** Reconcile this key again after this long (besides watch events and resync). */
  requeueAfterMs?: number;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
