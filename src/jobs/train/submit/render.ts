/**
 * Multi-node training manifests (pure). Both run `fleetchat jobs train ...` in every pod; torchrun takes its
 * rendezvous from PET_* environment variables:
 * - a Kubeflow PyTorchJob (kubeflow.org/v1): one Master and nnodes-1 Workers; the training operator sets
 *   PET_MASTER_ADDR / PET_MASTER_PORT / PET_NNODES / PET_NODE_RANK / PET_NPROC_PER_NODE;
 * - without the operator, an Indexed batch/v1 Job of nnodes pods and a headless Service: pod i is
 *   NAME-i.SERVICE, and torchrun's c10d rendezvous runs on pod 0 (PET_RDZV_ENDPOINT=NAME-0.NAME:29400).
 * Pods, volumes, env, Secrets, resources and node selectors are those `jobs submit` renders.
 */
import type { V1Job, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import type { ValidJobSpec } from '../../submit/job-spec';
import { renderJob } from '../../submit/render';

export const RDZV_PORT = 29400;
export const PYTORCHJOB_PORT = 23456;

export interface TrainTopology {
  nnodes: number;
  nprocPerNode: number;
}

export interface PyTorchJobManifest {
  apiVersion: 'kubeflow.org/v1';
  kind: 'PyTorchJob';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    nprocPerNode: string;
    runPolicy: { backoffLimit: number; activeDeadlineSeconds?: number; ttlSecondsAfterFinished: number; cleanPodPolicy: string };
    pytorchReplicaSpecs: Record<string, { replicas: number; restartPolicy: string; template: V1PodTemplateSpec }>;
  };
}

function podTemplate(spec: ValidJobSpec, containerName: string, extraEnv: Array<{ name: string; value: string }>, port?: { name: string; containerPort: number }): V1PodTemplateSpec {
  const template = structuredClone(renderJob(spec).spec!.template);
  const c = template.spec!.containers[0];
  c.name = containerName;
  c.env = [...(c.env ?? []), ...extraEnv];
  if (port) c.ports = [port];
  // torch.distributed and DataLoader workers share memory through /dev/shm, which is 64 MB by default.
  template.spec!.volumes = [...(template.spec!.volumes ?? []), { name: 'dshm', emptyDir: { medium: 'Memory' } }];
  c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'dshm', mountPath: '/dev/shm' }];
  return template;
}

const NCCL_ENV = [{ name: 'NCCL_NVLS_ENABLE', value: '0' }];

export function renderPyTorchJob(spec: ValidJobSpec, topo: TrainTopology): PyTorchJobManifest {
  const labels = { ...renderJob(spec).metadata!.labels! };
  const template = podTemplate(spec, 'pytorch', NCCL_ENV, { name: 'pytorchjob-port', containerPort: PYTORCHJOB_PORT });
  template.spec!.restartPolicy = undefined;
  const replicas: PyTorchJobManifest['spec']['pytorchReplicaSpecs'] = { Master: { replicas: 1, restartPolicy: 'OnFailure', template } };
  if (topo.nnodes > 1) replicas.Worker = { replicas: topo.nnodes - 1, restartPolicy: 'OnFailure', template: structuredClone(template) };
  return {
    apiVersion: 'kubeflow.org/v1',
    kind: 'PyTorchJob',
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      nprocPerNode: String(topo.nprocPerNode),
      runPolicy: { backoffLimit: spec.backoffLimit, activeDeadlineSeconds: spec.activeDeadlineSeconds, ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished, cleanPodPolicy: 'None' },
      pytorchReplicaSpecs: replicas,
    },
  };
}

export function renderIndexedJob(spec: ValidJobSpec, topo: TrainTopology): { job: V1Job; service: V1Service } {
  const base = renderJob(spec);
  const labels = { ...base.metadata!.labels! };
  const env = [
    ...NCCL_ENV,
    { name: 'PET_NNODES', value: String(topo.nnodes) },
    { name: 'PET_RDZV_BACKEND', value: 'c10d' },
    { name: 'PET_RDZV_ENDPOINT', value: `${spec.name}-0.${spec.name}:${RDZV_PORT}` },
    { name: 'PET_RDZV_ID', value: spec.name },
  ];
  const template = podTemplate(spec, 'train', env, { name: 'rendezvous', containerPort: RDZV_PORT });
  template.spec!.subdomain = spec.name;
  template.metadata = { labels: { ...labels, 'fleetchat.io/train-job': spec.name } };
  const job: V1Job = {
    ...base,
    spec: { ...base.spec!, completionMode: 'Indexed', completions: topo.nnodes, parallelism: topo.nnodes, template },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { 'fleetchat.io/train-job': spec.name }, ports: [{ name: 'rendezvous', port: RDZV_PORT }] },
  };
  return { job, service };
}
