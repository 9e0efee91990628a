/**
 * Desired children of a ModelWorker, rendered as pure functions: a Deployment of workers and a headless Service
 * (pod discovery and metrics scraping; gateways reach workers through the controller's registry). Both carry an
 * owner reference so the garbage collector removes them with the ModelWorker.
 */
import type { V1Deployment, V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { API_VERSION, KIND } from '../api/v1alpha1/schema';
import type { ModelWorker } from '../api/v1alpha1/types';
import { SPEC_HASH_ANNOTATION, WORKER_GRPC_PORT, WORKER_METRICS_PORT, objectLabels, selectorLabels } from './labels';
import { withCredentials, type WorkerCredentials } from './render-credentials';
import { renderPodSpec, type PodRenderOptions } from './render-pod';
import { specHash } from './spec-hash';
import type { ValidModelWorkerSpec } from './valid-spec';

export interface RenderOptions extends PodRenderOptions {
  /** Replicas decided for this reconcile (spec.replicas, or the autoscaler's choice). */
  replicas: number;
  /** Certificate Secret and/or cluster token mounted into the pods (none: plaintext). */
  credentials?: WorkerCredentials;
}

export function ownerReference(mw: ModelWorker): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: mw.metadata.name, uid: mw.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function renderDeployment(mw: ModelWorker, spec: ValidModelWorkerSpec, options: RenderOptions): V1Deployment {
  const name = mw.metadata.name;
  const labels = objectLabels(name);
  const podSpec = withCredentials(renderPodSpec(spec, options), name, options.credentials);
  const hash = specHash({ labels, podSpec });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: mw.metadata.namespace, labels, annotations: { [SPEC_HASH_ANNOTATION]: hash }, ownerReferences: [ownerReference(mw)] },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: selectorLabels(name) },
      template: { metadata: { labels, annotations: { [SPEC_HASH_ANNOTATION]: hash } }, spec: podSpec },
    },
  };
}

export function renderService(mw: ModelWorker): V1Service {
  const name = mw.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: mw.metadata.namespace, labels: objectLabels(name), ownerReferences: [ownerReference(mw)] },
    spec: {
      clusterIP: 'None',
      selector: selectorLabels(name),
      ports: [
        { name: 'grpc', port: WORKER_GRPC_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'metrics', port: WORKER_METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
  };
}
