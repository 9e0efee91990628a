/**
 * Pods of ModelWorkers whose model another engine runs (pure). engine vllm / sglang: the engine's own container
 * (its image, `--model`, `--served-model-name`, tensor parallelism from the GPU count, /dev/shm, the model cache,
 * readiness on its /health) with the fleetchat adapter (`fleetchat worker --engine openai`) beside it, talking over
 * localhost. engine openai: the adapter alone, relaying to an external URL with a key from a Secret.
 */
import type { V1Container, V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { ENGINE_IMAGES } from '../api/v1alpha1/schema';
import { WORKER_GRPC_PORT, WORKER_METRICS_PORT } from './labels';
import type { ValidModelWorkerSpec } from './valid-spec';

export const ENGINE_PORT = 8000;
export const ENGINE_CONTAINER = 'engine';
export const ADAPTER_CONTAINER = 'worker';
export const UPSTREAM_KEY_ENV = 'FLEETCHAT_UPSTREAM_API_KEY';
const CACHE_DIR = '/var/cache/fleetchat';
const MODELS_DIR = '/models';
const GPU = 'nvidia.com/gpu';

type Engine = 'vllm' | 'sglang';

interface PodOptions {
  image: string;
  controllerAddress: string;
}

/** The model as the engine loads it: a hub repo (and revision) or a directory in the mounted claim. */
export function engineModel(spec: ValidModelWorkerSpec): { model: string; revision?: string; hfEndpoint?: string } {
  const s = spec.source;
  switch (s.kind) {
    case 'pvc': return { model: [MODELS_DIR, s.claim, s.path].filter((p) => p !== '').join('/') };
    case 'hf': case 'mirror': {
      const [repo, revision] = s.ref.slice('hf:'.length).split('@');
      return { model: repo, revision, hfEndpoint: s.kind === 'mirror' ? s.endpoint : undefined };
    }
    case 'default': return { model: '' };
  }
}

/** The name the engine serves and the adapter asks for: the first spec name, else the model's last path segment. */
export function servedName(spec: ValidModelWorkerSpec): string {
  return spec.names[0] ?? (engineModel(spec).model.split('/').pop() || 'model');
}

/** Tensor-parallel size: explicit, else the GPU limit (else request), else 1. */
export function tensorParallelSize(spec: ValidModelWorkerSpec): number {
  if (spec.engine.tensorParallelSize !== undefined) return spec.engine.tensorParallelSize;
  const gpus = Number(spec.resources.limits[GPU] ?? spec.resources.requests[GPU] ?? 1);
  return Number.isInteger(gpus) && gpus > 0 ? gpus : 1;
}

export function engineArgs(engine: Engine, spec: ValidModelWorkerSpec): { command: string[]; args: string[] } {
  const m = engineModel(spec);
  const tp = String(tensorParallelSize(spec));
  const revision = m.revision ? ['--revision', m.revision] : [];
  const common = ['--served-model-name', servedName(spec), '--host', '0.0.0.0', '--port', String(ENGINE_PORT)];
  if (engine === 'vllm') {
    return {
      command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
      args: ['--model', m.model, ...revision, ...common, '--tensor-parallel-size', tp, '--max-num-seqs', String(spec.maxConcurrency), ...spec.engine.args],
    };
  }
  return {
    command: ['python3', '-m', 'sglang.launch_server'],
    args: ['--model-path', m.model, ...revision, ...common, '--tp-size', tp, '--max-running-requests', String(spec.maxConcurrency), '--enable-metrics', ...spec.engine.args],
  };
}

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

export function adapterArgs(spec: ValidModelWorkerSpec, controllerAddress: string): string[] {
  const external = spec.engine.kind === 'openai' ? spec.engine.upstream : undefined;
  const args = [
    'worker', '--engine', 'openai',
    '--upstream', external ? external.url : `http://127.0.0.1:${ENGINE_PORT}`,
    '--upstream-api', external ? external.api ?? 'auto' : spec.engine.kind,
    '--controller', controllerAddress,
    '--listen', `0.0.0.0:${WORKER_GRPC_PORT}`,
    '--advertise-address', `$(POD_IP):${WORKER_GRPC_PORT}`,
    '--metrics-listen', `0.0.0.0:${WORKER_METRICS_PORT}`,
    '--worker-id', '$(POD_NAMESPACE).$(POD_NAME)',
    '--max-concurrency', String(spec.maxConcurrency),
  ];
  const upstreamModel = external ? external.model : servedName(spec);
  if (upstreamModel) args.push('--upstream-model', upstreamModel);
  const names = spec.names.length > 0 ? spec.names : external ? [] : [servedName(spec)];
  if (names.length > 0) args.push('--model-names', names.join(','));
  if (external?.apiKeySecretRef) args.push('--api-key-env', UPSTREAM_KEY_ENV);
  return [...args, ...spec.extraArgs];
}

function adapterContainer(spec: ValidModelWorkerSpec, options: PodOptions): V1Container {
  const probe = (path: string): NonNullable<V1Container['readinessProbe']> => ({ httpGet: { path, port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 3 });
  const env = [fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_NAMESPACE', 'metadata.namespace'), fieldEnv('POD_IP', 'status.podIP')];
  const key = spec.engine.upstream?.apiKeySecretRef;
  if (key) env.push({ name: UPSTREAM_KEY_ENV, valueFrom: { secretKeyRef: { name: key.name, key: key.key } } });
  return {
    name: ADAPTER_CONTAINER,
    image: spec.image ?? options.image,
    imagePullPolicy: spec.imagePullPolicy,
    args: adapterArgs(spec, spec.controllerAddress ?? options.controllerAddress),
    env,
    ports: [{ name: 'grpc', containerPort: WORKER_GRPC_PORT, protocol: 'TCP' }, { name: 'metrics', containerPort: WORKER_METRICS_PORT, protocol: 'TCP' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    livenessProbe: { ...probe('/healthz'), failureThreshold: 3 },
    // Not ready while the engine is down or still loading (the adapter probes it).
    readinessProbe: { ...probe('/readyz'), failureThreshold: 1 },
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
}

function gpuResources(spec: ValidModelWorkerSpec): V1Container['resources'] {
  const requests = { ...spec.resources.requests };
  const limits = { ...spec.resources.limits };
  if (requests[GPU] !== undefined && limits[GPU] === undefined) limits[GPU] = requests[GPU];
  const out: V1Container['resources'] = {};
  if (Object.keys(requests).length > 0) out.requests = requests;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}

function engineContainer(engine: Engine, spec: ValidModelWorkerSpec, mounts: V1VolumeMount[]): V1Container {
  const m = engineModel(spec);
  const probe = { httpGet: { path: '/health', port: 'engine' }, periodSeconds: 10, timeoutSeconds: 5 };
  const env: V1EnvVar[] = [{ name: 'HF_HOME', value: `${CACHE_DIR}/hf` }];
  if (m.hfEndpoint) env.push({ name: 'HF_ENDPOINT', value: m.hfEndpoint });
  if (spec.hfTokenSecretRef) env.push({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: spec.hfTokenSecretRef.name, key: spec.hfTokenSecretRef.key } } });
  const reserved = new Set(env.map((e) => e.name));
  const { command, args } = engineArgs(engine, spec);
  return {
    name: ENGINE_CONTAINER,
    image: spec.engine.image ?? ENGINE_IMAGES[engine],
    imagePullPolicy: spec.imagePullPolicy,
    command,
    args,
    env: [...env, ...spec.env.filter((e) => !reserved.has(e.name))],
    ports: [{ name: 'engine', containerPort: ENGINE_PORT, protocol: 'TCP' }],
    resources: gpuResources(spec),
    volumeMounts: mounts,
    // Downloading and loading weights can take long: an hour before liveness applies.
    startupProbe: { ...probe, failureThreshold: 360 },
    livenessProbe: { ...probe, failureThreshold: 6 },
    readinessProbe: { ...probe, periodSeconds: 5, failureThreshold: 3 },
    securityContext: { allowPrivilegeEscalation: false },
  };
}

function engineVolumes(spec: ValidModelWorkerSpec): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const cache: V1Volume = spec.cache.claimName
    ? { name: 'cache', persistentVolumeClaim: { claimName: spec.cache.claimName } }
    : { name: 'cache', emptyDir: spec.cache.sizeLimit ? { sizeLimit: spec.cache.sizeLimit } : {} };
  const volumes: V1Volume[] = [cache, { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: spec.engine.shmSize } }];
  const mounts: V1VolumeMount[] = [{ name: 'cache', mountPath: CACHE_DIR }, { name: 'shm', mountPath: '/dev/shm' }];
  if (spec.source.kind === 'pvc') {
    volumes.push({ name: 'model', persistentVolumeClaim: { claimName: spec.source.claim, readOnly: true } });
    mounts.push({ name: 'model', mountPath: `${MODELS_DIR}/${spec.source.claim}`, readOnly: true });
  }
  return { volumes, mounts };
}

/** The pod spec for engine vllm, sglang or openai (onnx pods are rendered by render-pod.ts). */
export function renderExternalPodSpec(spec: ValidModelWorkerSpec, options: PodOptions, placement: Pick<V1PodSpec, 'nodeSelector' | 'tolerations' | 'affinity'>): V1PodSpec {
  const tmp: V1Volume = { name: 'tmp', emptyDir: {} };
  const base: V1PodSpec = {
    containers: [],
    ...placement,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 45,
  };
  if (spec.engine.kind === 'openai') {
    return { ...base, containers: [adapterContainer(spec, options)], volumes: [tmp], securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } } };
  }
  const engine = spec.engine.kind as Engine;
  const { volumes, mounts } = engineVolumes(spec);
  // Engine images run as root and write caches under $HOME; only the adapter is locked down.
  return { ...base, containers: [engineContainer(engine, spec, mounts), adapterContainer(spec, options)], volumes: [...volumes, tmp], securityContext: { seccompProfile: { type: 'RuntimeDefault' } } };
}
