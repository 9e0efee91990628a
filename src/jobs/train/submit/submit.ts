/**
 * `fleetchat jobs train --submit`: the training run as a Kubeflow PyTorchJob when the cluster serves
 * kubeflow.org/v1 pytorchjobs, else as an Indexed Job + headless Service; created, then followed to the end.
 */
import { ApisApi, BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { FleetError } from '../../../common/errors';
import type { ValidJobSpec } from '../../submit/job-spec';
import { followJob, type FollowOptions, type JobOutcome } from '../../submit/submit';
import { describePod, lastFailedExitCode } from '../../submit/job-state';
import { renderIndexedJob, renderPyTorchJob, type TrainTopology } from './render';

export type TrainJobKind = 'pytorchjob' | 'indexed-job';

/** Whether the API server serves PyTorchJobs (the Kubeflow training operator's CRD is installed). */
export async function servesPyTorchJobs(kc: KubeConfig): Promise<boolean> {
  const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
  const kubeflow = groups.groups.find((g) => g.name === 'kubeflow.org');
  if (!kubeflow?.versions.some((v) => v.version === 'v1')) return false;
  const resources = await kc.makeApiClient(CustomObjectsApi).getAPIResources({ group: 'kubeflow.org', version: 'v1' });
  return resources.resources.some((r) => r.name === 'pytorchjobs');
}

function conflict(err: unknown, what: string, spec: ValidJobSpec): never {
  if ((err as { code?: number }).code === 409) throw new FleetError('conflict', `a ${what} named ${spec.name} already exists in ${spec.namespace}: pick another --name`, { param: '--name', cause: err });
  throw new Error(`creating ${what} ${spec.namespace}/${spec.name}`, { cause: err });
}

export async function createTrainJob(kc: KubeConfig, spec: ValidJobSpec, topo: TrainTopology, kind: TrainJobKind): Promise<void> {
  if (kind === 'pytorchjob') {
    const body = renderPyTorchJob(spec, topo);
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace: spec.namespace, plural: 'pytorchjobs', body })
      .catch((err: unknown) => conflict(err, 'PyTorchJob', spec));
    return;
  }
  const { job, service } = renderIndexedJob(spec, topo);
  await kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace: spec.namespace, body: service }).catch((err: unknown) => conflict(err, 'Service', spec));
  await kc.makeApiClient(BatchV1Api).createNamespacedJob({ namespace: spec.namespace, body: job }).catch((err: unknown) => conflict(err, 'Job', spec));
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** A PyTorchJob's phase from its conditions (the training operator's Created/Running/Restarting/Succeeded/Failed). */
export function pytorchJobPhase(status: { conditions?: Condition[] } | undefined): { phase: 'running' | 'succeeded' | 'failed'; reason?: string } {
  const on = (type: string): Condition | undefined => status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (on('Succeeded')) return { phase: 'succeeded' };
  const failed = on('Failed');
  if (failed) return { phase: 'failed', reason: [failed.reason, failed.message].filter(Boolean).join(': ') };
  return { phase: 'running' };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export async function followPyTorchJob(kc: KubeConfig, namespace: string, name: string, options: FollowOptions): Promise<JobOutcome> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const started = Date.now();
  const seen = new Map<string, string>();
  let lastConditions = '';
  for (;;) {
    const job = (await custom.getNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace, plural: 'pytorchjobs', name })) as { status?: { conditions?: Condition[] } };
    const conditions = (job.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type).join(',');
    if (conditions !== lastConditions && conditions !== '') options.onStatus(`pytorchjob/${name}: ${conditions}`);
    lastConditions = conditions;
    const pods: V1Pod[] = (await core.listNamespacedPod({ namespace, labelSelector: `training.kubeflow.org/job-name=${name}` })).items;
    for (const pod of pods) {
      const line = describePod(pod);
      if (seen.get(pod.metadata?.name ?? '') !== line) {
        seen.set(pod.metadata?.name ?? '', line);
        options.onStatus(`pytorchjob/${name}: ${line}`);
      }
    }
    const state = pytorchJobPhase(job.status);
    const elapsedMs = Date.now() - started;
    if (state.phase !== 'running') return { name, namespace, phase: state.phase, reason: state.reason, exitCode: lastFailedExitCode(pods), elapsedMs };
    if ((options.timeoutMs > 0 && elapsedMs >= options.timeoutMs) || options.signal?.aborted) return { name, namespace, phase: 'timeout', elapsedMs };
    await sleep(options.pollMs ?? 1000, options.signal);
  }
}

export function followTrainJob(kc: KubeConfig, spec: ValidJobSpec, kind: TrainJobKind, options: FollowOptions): Promise<JobOutcome> {
  return kind === 'pytorchjob' ? followPyTorchJob(kc, spec.namespace, spec.name, options) : followJob(kc, spec.namespace, spec.name, options);
}
