/**
 * The cluster credentials of a ModelWorker's pods (pure): its certificate Secret (`<name>-fleetchat-tls`: tls.crt,
 * tls.key, ca.crt, issued by the operator or cert-manager for `spiffe://fleetchat/worker/<ns>/<name>`) and/or the
 * shared cluster token, mounted read-only into the fleetchat container (worker or adapter) and named by the
 * FLEETCHAT_TLS_* / FLEETCHAT_CLUSTER_TOKEN_FILE variables. Engine containers (vLLM, SGLang) get nothing.
 */
import type { V1Container, V1EnvVar, V1PodSpec } from '@kubernetes/client-node';

export interface WorkerCredentials {
  /** Mount each ModelWorker's certificate Secret (mTLS). */
  tls: boolean;
  /** An existing Secret (key `token`) in the ModelWorker's namespace: the shared cluster token. */
  clusterTokenSecret?: string;
}

export const TLS_DIR = '/etc/fleetchat/tls';
export const TOKEN_DIR = '/etc/fleetchat/cluster-token';
/**
 * The fleetchat containers of a ModelWorker pod: the ONNX worker (`worker`, and `worker-1`... when the pod runs one
 * worker per GPU: gpu-workers.ts), or the adapter beside an engine (`worker`).
 */
const FLEETCHAT_CONTAINER = /^worker(-\d+)?$/;

export function workerTlsSecretName(modelWorker: string): string {
  return `${modelWorker}-fleetchat-tls`;
}

/** Variables that carry credentials: a ModelWorker's own env may not set them. */
export const CREDENTIAL_ENV = ['FLEETCHAT_TLS_CERT', 'FLEETCHAT_TLS_KEY', 'FLEETCHAT_TLS_CA', 'FLEETCHAT_CLUSTER_TOKEN_FILE'];

function withEnv(container: V1Container, vars: V1EnvVar[]): V1Container {
  const names = new Set(vars.map((v) => v.name));
  return { ...container, env: [...vars, ...(container.env ?? []).filter((e) => !names.has(e.name))] };
}

export function withCredentials(pod: V1PodSpec, modelWorker: string, credentials: WorkerCredentials | undefined): V1PodSpec {
  if (!credentials || (!credentials.tls && !credentials.clusterTokenSecret)) return pod;
  const volumes = [...(pod.volumes ?? [])];
  const vars: V1EnvVar[] = [];
  const mounts: NonNullable<V1Container['volumeMounts']> = [];
  if (credentials.tls) {
    volumes.push({ name: 'cluster-tls', secret: { secretName: workerTlsSecretName(modelWorker), defaultMode: 0o440 } });
    mounts.push({ name: 'cluster-tls', mountPath: TLS_DIR, readOnly: true });
    vars.push({ name: 'FLEETCHAT_TLS_CERT', value: `${TLS_DIR}/tls.crt` }, { name: 'FLEETCHAT_TLS_KEY', value: `${TLS_DIR}/tls.key` }, { name: 'FLEETCHAT_TLS_CA', value: `${TLS_DIR}/ca.crt` });
  }
  if (credentials.clusterTokenSecret) {
    volumes.push({ name: 'cluster-token', secret: { secretName: credentials.clusterTokenSecret, defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] } });
    mounts.push({ name: 'cluster-token', mountPath: TOKEN_DIR, readOnly: true });
    vars.push({ name: 'FLEETCHAT_CLUSTER_TOKEN_FILE', value: `${TOKEN_DIR}/token` });
  }
  return {
    ...pod,
    volumes,
    containers: pod.containers.map((c) => (FLEETCHAT_CONTAINER.test(c.name)
      ? { ...withEnv(c, vars), volumeMounts: [...(c.volumeMounts ?? []), ...mounts] }
      : c)),
  };
}
