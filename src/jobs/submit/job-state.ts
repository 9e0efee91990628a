/** Where a Job stands, and a one-line description of its pods (pure; the follower prints lines that change). */
import type { V1Job, V1Pod } from '@kubernetes/client-node';

export type JobPhase = 'running' | 'succeeded' | 'failed';

export interface JobState {
  phase: JobPhase;
  /** e.g. "BackoffLimitExceeded: Job has reached the specified backoff limit". */
  reason?: string;
}

export function jobState(job: V1Job): JobState {
  const conditions = job.status?.conditions ?? [];
  const on = (type: string): { reason?: string; message?: string } | undefined => conditions.find((c) => c.type === type && c.status === 'True');
  const complete = on('Complete');
  if (complete) return { phase: 'succeeded' };
  const failed = on('Failed');
  if (failed) return { phase: 'failed', reason: [failed.reason, failed.message].filter(Boolean).join(': ') };
  return { phase: 'running' };
}

function waitingReason(pod: V1Pod): string | undefined {
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting?.reason) return waiting.reason;
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return unschedulable ? `${unschedulable.reason ?? 'Unschedulable'}: ${unschedulable.message ?? ''}`.trim() : undefined;
}

function exitCode(pod: V1Pod): number | undefined {
  return pod.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated?.exitCode;
}

/** "pod NAME Phase (detail)" for one pod. */
export function describePod(pod: V1Pod): string {
  const phase = pod.status?.phase ?? 'Pending';
  const code = exitCode(pod);
  const detail = code !== undefined ? `exit code ${code}` : phase === 'Pending' ? waitingReason(pod) : undefined;
  return `pod ${pod.metadata?.name ?? '?'} ${phase}${detail ? ` (${detail})` : ''}`;
}

/** The exit code of the last failed pod, when one is known. */
export function lastFailedExitCode(pods: readonly V1Pod[]): number | undefined {
  const failed = pods.filter((p) => p.status?.phase === 'Failed').sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')));
  const last = failed[failed.length - 1];
  return last ? exitCode(last) : undefined;
}
