/**
 * What the engine containers (engine vllm / sglang) of a ModelWorker's pods are doing, for its status: a container
 * that cannot run (image pull failures, crash loops, OOM kills, bad configuration) makes the ModelWorker Degraded
 * with reason EngineFailing; one still starting (loading weights) is named in the Ready message.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { ENGINE_CONTAINER } from './render-engine';

export interface EngineObservation {
  /** Set when some engine container cannot run: pod, state and last exit. */
  failing?: string;
  /** Engine containers not ready yet, e.g. "1/2 engine containers not ready (starting or loading the model)". */
  notReady?: string;
  /** Pods whose engine container is ready — fresher than the Deployment's readyReplicas, which lags a crash. */
  ready: number;
}

const FAILING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'RunContainerError']);

function describe(pod: string, s: V1ContainerStatus): string | undefined {
  const waiting = s.state?.waiting?.reason;
  const last = s.lastState?.terminated;
  const lastExit = last ? `, last exit ${last.reason ?? 'Error'} (code ${last.exitCode})` : '';
  if (waiting && FAILING.has(waiting)) return `pod ${pod}: engine container ${waiting}${lastExit}, ${s.restartCount} restarts${s.state?.waiting?.message ? `: ${s.state.waiting.message}` : ''}`;
  if (last?.reason === 'OOMKilled') return `pod ${pod}: engine container was OOMKilled (${s.restartCount} restarts): raise its memory limit or lower the model's memory use`;
  return undefined;
}

export function observeEngineContainers(pods: V1Pod[]): EngineObservation {
  const out: EngineObservation = { ready: 0 };
  let notReady = 0;
  let total = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const s = pod.status?.containerStatuses?.find((c) => c.name === ENGINE_CONTAINER);
    total += 1;
    if (!s?.ready) notReady += 1;
    if (!s || out.failing) continue;
    out.failing = describe(pod.metadata?.name ?? '?', s);
  }
  out.ready = total - notReady;
  if (notReady > 0) out.notReady = `${notReady}/${total} engine containers not ready (starting or loading the model)`;
  return out;
}
