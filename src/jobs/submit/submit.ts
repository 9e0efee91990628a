/**
 * Submitting a Job and following it to completion: create it, then poll the Job and its pods, reporting every
 * change of a pod's state through `onStatus` until the Job is Complete or Failed (or the timeout passes).
 * Usable by any pipeline: `submitJob(kubeConfig, validJobSpec(...), { follow: true, onStatus })`.
 */
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { FleetError } from '../../common/errors';
import type { ValidJobSpec } from './job-spec';
import { describePod, jobState, lastFailedExitCode, type JobPhase } from './job-state';
import { renderJob } from './render';

export interface FollowOptions {
  onStatus: (line: string) => void;
  /** 0 = follow until the Job finishes. */
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export interface JobOutcome {
  name: string;
  namespace: string;
  phase: JobPhase | 'timeout';
  reason?: string;
  exitCode?: number;
  elapsedMs: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function createJob(kc: KubeConfig, spec: ValidJobSpec): Promise<V1Job> {
  try {
    return await kc.makeApiClient(BatchV1Api).createNamespacedJob({ namespace: spec.namespace, body: renderJob(spec) });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 409) throw new FleetError('conflict', `a Job named ${spec.name} already exists in ${spec.namespace}: pick another --name`, { param: '--name', cause: err });
    throw new Error(`creating Job ${spec.namespace}/${spec.name}`, { cause: err });
  }
}

export async function followJob(kc: KubeConfig, namespace: string, name: string, options: FollowOptions): Promise<JobOutcome> {
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const started = Date.now();
  const seen = new Map<string, string>();
  for (;;) {
    const job = await batch.readNamespacedJob({ namespace, name });
    const pods: V1Pod[] = (await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
    for (const pod of pods) {
      const line = describePod(pod);
      if (seen.get(pod.metadata?.name ?? '') !== line) {
        seen.set(pod.metadata?.name ?? '', line);
        options.onStatus(`job/${name}: ${line}`);
      }
    }
    const state = jobState(job);
    const elapsedMs = Date.now() - started;
    if (state.phase !== 'running') return { name, namespace, phase: state.phase, reason: state.reason, exitCode: lastFailedExitCode(pods), elapsedMs };
    if ((options.timeoutMs > 0 && elapsedMs >= options.timeoutMs) || options.signal?.aborted) return { name, namespace, phase: 'timeout', elapsedMs };
    await sleep(options.pollMs ?? 1000, options.signal);
  }
}

/** Creates the Job and, with `follow`, waits for its outcome; without, returns right after creation. */
export async function submitJob(kc: KubeConfig, spec: ValidJobSpec, follow: FollowOptions | undefined): Promise<JobOutcome | undefined> {
  await createJob(kc, spec);
  follow?.onStatus(`job/${spec.name} created in namespace ${spec.namespace} (fleetchat ${spec.args.join(' ')})`);
  if (!follow) return undefined;
  return followJob(kc, spec.namespace, spec.name, follow);
}
