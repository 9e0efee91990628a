/** The worker pod template of a ModelWorker (pure): the `fleetchat worker` container, its volumes and placement. */
import type { V1Container, V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { workerSlot, workersPerPod, type WorkerSlot } from './gpu-workers';
import { renderExternalPodSpec } from './render-engine';
import type { ValidModelWorkerSpec } from './valid-spec';

export interface PodRenderOptions {
  image: string;
  /** Image of workers that request nvidia.com/gpu (the Dockerfile's `gpu` target). */
  gpuImage: string;
  controllerAddress: string;
}

export const CACHE_DIR = '/var/cache/fleetchat';
export const MODELS_DIR = '/models';
const GPU = 'nvidia.com/gpu';

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** `--model` argument and the hub endpoint for the model source. */
function modelArgs(spec: ValidModelWorkerSpec): string[] {
  const s = spec.source;
  switch (s.kind) {
    case 'default': return ['--model', 'default'];
    case 'hf': return ['--model', s.ref];
    case 'mirror': return ['--model', s.ref, '--hf-endpoint', s.endpoint];
    case 'pvc': return ['--model', [MODELS_DIR, s.claim, s.path].filter((p) => p !== '').join('/')];
  }
}

export function workerArgs(spec: ValidModelWorkerSpec, controllerAddress: string, slot: WorkerSlot = workerSlot(0, 1)): string[] {
  const args = [
    'worker',
    ...modelArgs(spec),
    '--controller', controllerAddress,
    '--listen', `0.0.0.0:${slot.grpcPort}`,
    '--advertise-address', `$(POD_IP):${slot.grpcPort}`,
    '--metrics-listen', `0.0.0.0:${slot.metricsPort}`,
    '--worker-id', `$(POD_NAMESPACE).$(POD_NAME)${slot.idSuffix}`,
    '--max-concurrency', String(spec.maxConcurrency),
    '--weights', spec.weights,
    '--cache-dir', CACHE_DIR,
  ];
  if (spec.names.length > 0) args.push('--model-names', spec.names.join(','));
  if (wantsGpu(spec) && !spec.extraArgs.includes('--device')) args.push('--device', 'cuda', ...(spec.gpu.allowTF32 ? ['--allow-tf32'] : []));
  if (spec.convTemplate) args.push('--conv-template', spec.convTemplate);
  if (spec.toolParser) args.push('--tool-parser', spec.toolParser);
  const threads = cpuThreads(spec);
  // On a GPU the CPU threads only feed the GPU; a CPU limit still caps them.
  if (threads !== undefined && !spec.extraArgs.includes('--threads')) args.push('--threads', String(threads));
  return [...args, ...spec.extraArgs];
}

/**
 * onnxruntime threads from the CPU limit (else request): a container sees every core of its node, so the
 * worker's default (all cores) would oversubscribe a CPU-limited pod.
 */
export function cpuThreads(spec: ValidModelWorkerSpec): number | undefined {
  const raw = spec.resources.limits.cpu ?? spec.resources.requests.cpu;
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(raw);
  if (!m) return undefined;
  const cores = m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
  return Math.max(1, Math.ceil(cores));
}

/**
 * The GPU variant of an image: its tag with "-gpu" appended (`fleetchat:0.1.0` -> `fleetchat:0.1.0-gpu`, no tag ->
 * `latest-gpu`). An image pinned by digest has no derivable variant: set --worker-gpu-image.
 */
export function gpuImageOf(image: string): string {
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? `${image}-gpu` : `${image}:latest-gpu`;
}

/** The worker asks for NVIDIA GPUs (request or limit above zero). */
export function wantsGpu(spec: ValidModelWorkerSpec): boolean {
  const raw = spec.resources.limits[GPU] ?? spec.resources.requests[GPU];
  return raw !== undefined && raw !== '0';
}

function env(spec: ValidModelWorkerSpec): V1EnvVar[] {
  const out = [fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_NAMESPACE', 'metadata.namespace'), fieldEnv('POD_IP', 'status.podIP')];
  // TF32 changes greedy tokens; off unless spec.gpu.allowTF32 (the device plugin sets NVIDIA_VISIBLE_DEVICES).
  if (wantsGpu(spec) && !spec.gpu.allowTF32) out.push({ name: 'NVIDIA_TF32_OVERRIDE', value: '0' });
  if (spec.hfTokenSecretRef) out.push({ name: 'FLEETCHAT_HF_TOKEN', valueFrom: { secretKeyRef: { name: spec.hfTokenSecretRef.name, key: spec.hfTokenSecretRef.key } } });
  const reserved = new Set(out.map((e) => e.name));
  return [...out, ...spec.env.filter((e) => !reserved.has(e.name))];
}

/**
 * A GPU request without a limit gets the same limit (extended resources need request == limit). With one worker per
 * GPU (several in the pod) each container asks for one GPU; cpu and memory apply to each worker container.
 */
function resources(spec: ValidModelWorkerSpec, perPod: number): V1Container['resources'] {
  const requests = { ...spec.resources.requests };
  const limits = { ...spec.resources.limits };
  if (requests[GPU] !== undefined && limits[GPU] === undefined) limits[GPU] = requests[GPU];
  if (perPod > 1) {
    limits[GPU] = '1';
    if (requests[GPU] !== undefined) requests[GPU] = '1';
  }
  const out: V1Container['resources'] = {};
  if (Object.keys(requests).length > 0) out.requests = requests;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}

function volumes(spec: ValidModelWorkerSpec): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const cache: V1Volume = spec.cache.claimName
    ? { name: 'cache', persistentVolumeClaim: { claimName: spec.cache.claimName } }
    : { name: 'cache', emptyDir: spec.cache.sizeLimit ? { sizeLimit: spec.cache.sizeLimit } : {} };
  const out: { volumes: V1Volume[]; mounts: V1VolumeMount[] } = {
    volumes: [cache, { name: 'tmp', emptyDir: {} }],
    mounts: [{ name: 'cache', mountPath: CACHE_DIR }, { name: 'tmp', mountPath: '/tmp' }],
  };
  if (spec.source.kind === 'pvc') {
    out.volumes.push({ name: 'model', persistentVolumeClaim: { claimName: spec.source.claim, readOnly: true } });
    out.mounts.push({ name: 'model', mountPath: `${MODELS_DIR}/${spec.source.claim}`, readOnly: true });
  }
  return out;
}

function container(spec: ValidModelWorkerSpec, options: PodRenderOptions, mounts: V1VolumeMount[], slot: WorkerSlot, perPod: number): V1Container {
  const probe = (path: string): NonNullable<V1Container['readinessProbe']> => ({ httpGet: { path, port: slot.metricsPortName }, periodSeconds: 10, timeoutSeconds: 3 });
  return {
    name: slot.containerName,
    image: spec.image ?? (wantsGpu(spec) ? options.gpuImage : options.image),
    imagePullPolicy: spec.imagePullPolicy,
    args: workerArgs(spec, spec.controllerAddress ?? options.controllerAddress, slot),
    env: env(spec),
    ports: [{ name: slot.grpcPortName, containerPort: slot.grpcPort, protocol: 'TCP' }, { name: slot.metricsPortName, containerPort: slot.metricsPort, protocol: 'TCP' }],
    resources: resources(spec, perPod),
    volumeMounts: mounts,
    // Model downloads can take long: the startup probe allows an hour before liveness applies.
    startupProbe: { ...probe('/healthz'), failureThreshold: 360 },
    livenessProbe: { ...probe('/healthz'), failureThreshold: 3 },
    readinessProbe: { ...probe('/readyz'), failureThreshold: 1 },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
}

export function renderPodSpec(spec: ValidModelWorkerSpec, options: PodRenderOptions): V1PodSpec {
  if (spec.engine.kind !== 'onnx') {
    return renderExternalPodSpec(spec, options, {
      nodeSelector: Object.keys(spec.nodeSelector).length > 0 ? spec.nodeSelector : undefined,
      tolerations: spec.tolerations.length > 0 ? spec.tolerations : undefined,
      affinity: spec.affinity,
    });
  }
  const { volumes: vols, mounts } = volumes(spec);
  const perPod = workersPerPod(spec);
  return {
    containers: Array.from({ length: perPod }, (_, i) => container(spec, options, mounts, workerSlot(i, perPod), perPod)),
    volumes: vols,
    nodeSelector: Object.keys(spec.nodeSelector).length > 0 ? spec.nodeSelector : undefined,
    tolerations: spec.tolerations.length > 0 ? spec.tolerations : undefined,
    affinity: spec.affinity,
    automountServiceAccountToken: false,
    // The worker drains for up to 30 s (--drain-timeout) after SIGTERM.
    terminationGracePeriodSeconds: 45,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  };
}
