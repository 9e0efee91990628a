/**
 * Queue-length autoscaling (pure). Each observation recommends ceil(load / targetQueueLength) replicas, clamped to
 * [min, max]; like the HorizontalPodAutoscaler's stabilisation windows, scaling up goes to the LOWEST recommendation
 * of the scale-up window and scaling down to the HIGHEST of the scale-down window, so short spikes and dips do not
 * make replicas flap.
 */
import type { ValidAutoscaling } from './valid-spec';

export interface Recommendation {
  atMs: number;
  replicas: number;
}

export interface ScaleDecision {
  replicas: number;
  /** The recommendation of this observation alone (before stabilisation). */
  recommended: number;
  /** History to keep for the next decision (older entries than the longest window are dropped). */
  history: Recommendation[];
}

export function recommendReplicas(load: number, a: ValidAutoscaling): number {
  const raw = Math.ceil(Math.max(0, load) / a.targetQueueLength);
  return Math.min(a.maxReplicas, Math.max(a.minReplicas, raw));
}

export function decideReplicas(input: { current: number; load: number; autoscaling: ValidAutoscaling; history: readonly Recommendation[]; nowMs: number }): ScaleDecision {
  const a = input.autoscaling;
  const recommended = recommendReplicas(input.load, a);
  const keepMs = Math.max(a.scaleUpStabilizationMs, a.scaleDownStabilizationMs);
  const current = Math.min(a.maxReplicas, Math.max(a.minReplicas, input.current));
  // No history (new ModelWorker, operator restart, new leader): the current count counts as a recommendation, so a
  // scale-down still waits a full window.
  const past = input.history.length > 0 ? input.history : [{ atMs: input.nowMs, replicas: current }];
  const history = [...past.filter((r) => input.nowMs - r.atMs <= keepMs), { atMs: input.nowMs, replicas: recommended }];
  const within = (ms: number): number[] => history.filter((r) => input.nowMs - r.atMs <= ms).map((r) => r.replicas);
  let replicas = current;
  const upTo = Math.min(...within(a.scaleUpStabilizationMs));
  const downTo = Math.max(...within(a.scaleDownStabilizationMs));
  if (upTo > current) replicas = upTo;
  else if (downTo < current) replicas = downTo;
  return { replicas, recommended, history };
}
