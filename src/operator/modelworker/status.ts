/**
 * The status of a ModelWorker, computed as a pure function of what one reconcile observed: the Deployment, the
 * controller's registry, and any error. Conditions use constant reasons:
 *   Ready        True when every desired worker pod is ready AND registered with the controller.
 *   Progressing  True while the Deployment rolls out (new pods being created or old ones retired).
 *   Degraded     True when something needs a human: applying children failed, pods cannot be created, the rollout
 *                passed its deadline, the spec cannot be run, or the controller cannot be reached.
 */
import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import type { ModelWorker, ModelWorkerCondition, ModelWorkerStatus } from '../api/v1alpha1/types';
import { setCondition, type ConditionInput } from '../runtime/conditions';
import type { EngineObservation } from './engine-status';

export const REASONS = {
  workersReady: 'WorkersReady',
  replicasNotReady: 'ReplicasNotReady',
  workersNotRegistered: 'WorkersNotRegistered',
  scaledToZero: 'ScaledToZero',
  controllerUnreachable: 'ControllerUnreachable',
  rollingOut: 'RollingOut',
  rolloutComplete: 'RolloutComplete',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  replicaFailure: 'ReplicaFailure',
  applyFailed: 'ApplyFailed',
  invalidSpec: 'InvalidSpec',
  deploymentMissing: 'DeploymentMissing',
  asExpected: 'AsExpected',
  engineFailing: 'EngineFailing',
} as const;

export interface WorkerObservation {
  registered: number;
  /** Requests waiting or running on those workers. */
  queueLength: number;
}

export interface StatusInput {
  mw: ModelWorker;
  desiredReplicas: number;
  /** Workers each pod runs (one per GPU: gpu-workers.ts); 1 when absent. */
  workersPerPod?: number;
  deployment: V1Deployment | undefined;
  /** undefined when the controller could not be asked; then `controllerError` says why. */
  workers: WorkerObservation | undefined;
  controllerError?: string;
  /** Applying the children failed (or the spec is invalid: `invalidSpec`). */
  applyError?: string;
  invalidSpec?: string;
  selector: string;
  lastScaleTime?: string;
  nowIso: string;
  /** engine vllm / sglang: what the engine containers do (pods/engine-status.ts). */
  engine?: EngineObservation;
}

type Input = ConditionInput<ModelWorkerCondition['type']>;

function deploymentCondition(d: V1Deployment | undefined, type: string): V1DeploymentCondition | undefined {
  return d?.status?.conditions?.find((c) => c.type === type);
}

function rolloutState(input: StatusInput): { rolling: boolean; message: string } {
  const d = input.deployment;
  const s = d?.status ?? {};
  const desired = input.desiredReplicas;
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  const stale = (s.observedGeneration ?? 0) < (d?.metadata?.generation ?? 0);
  const rolling = stale || updated < desired || total > updated || available < desired;
  return { rolling, message: `${updated}/${desired} pods updated, ${available} available, ${total - updated} old` };
}

function progressing(input: StatusInput, generation: number): Input {
  const base = { type: 'Progressing' as const, observedGeneration: generation };
  if (input.invalidSpec) return { ...base, status: 'False', reason: REASONS.invalidSpec, message: input.invalidSpec };
  if (!input.deployment) return { ...base, status: 'False', reason: input.applyError ? REASONS.applyFailed : REASONS.deploymentMissing, message: input.applyError ?? 'the Deployment does not exist yet' };
  const p = deploymentCondition(input.deployment, 'Progressing');
  if (p?.reason === 'ProgressDeadlineExceeded') return { ...base, status: 'False', reason: REASONS.progressDeadlineExceeded, message: p.message };
  const state = rolloutState(input);
  return { ...base, status: state.rolling ? 'True' : 'False', reason: state.rolling ? REASONS.rollingOut : REASONS.rolloutComplete, message: state.message };
}

function ready(input: StatusInput, generation: number): Input {
  const base = { type: 'Ready' as const, observedGeneration: generation };
  const desired = input.desiredReplicas;
  // An engine container seen crashing in its pod is not ready even while the Deployment still counts the pod.
  const readyPods = Math.min(input.deployment?.status?.readyReplicas ?? 0, input.engine?.ready ?? Number.POSITIVE_INFINITY);
  if (input.invalidSpec) return { ...base, status: 'False', reason: REASONS.invalidSpec, message: input.invalidSpec };
  if (desired === 0) return { ...base, status: 'False', reason: REASONS.scaledToZero, message: 'spec.replicas is 0' };
  if (readyPods < desired) {
    const engine = input.engine?.failing ?? input.engine?.notReady;
    return { ...base, status: 'False', reason: input.engine?.failing ? REASONS.engineFailing : REASONS.replicasNotReady, message: `${readyPods}/${desired} pods ready${engine ? `; ${engine}` : ''}` };
  }
  if (!input.workers) return { ...base, status: 'Unknown', reason: REASONS.controllerUnreachable, message: input.controllerError ?? 'the controller could not be asked' };
  const desiredWorkers = desired * (input.workersPerPod ?? 1);
  if (input.workers.registered < desiredWorkers) return { ...base, status: 'False', reason: REASONS.workersNotRegistered, message: `${input.workers.registered}/${desiredWorkers} workers registered with the controller` };
  return { ...base, status: 'True', reason: REASONS.workersReady, message: `${readyPods} pods ready, ${input.workers.registered} workers registered` };
}

function degraded(input: StatusInput, generation: number): Input {
  const base = { type: 'Degraded' as const, observedGeneration: generation };
  if (input.invalidSpec) return { ...base, status: 'True', reason: REASONS.invalidSpec, message: input.invalidSpec };
  if (input.applyError) return { ...base, status: 'True', reason: REASONS.applyFailed, message: input.applyError };
  if (input.engine?.failing) return { ...base, status: 'True', reason: REASONS.engineFailing, message: input.engine.failing };
  const failure = deploymentCondition(input.deployment, 'ReplicaFailure');
  if (failure?.status === 'True') return { ...base, status: 'True', reason: REASONS.replicaFailure, message: failure.message };
  const p = deploymentCondition(input.deployment, 'Progressing');
  if (p?.reason === 'ProgressDeadlineExceeded') return { ...base, status: 'True', reason: REASONS.progressDeadlineExceeded, message: p.message };
  if (!input.workers) return { ...base, status: 'True', reason: REASONS.controllerUnreachable, message: input.controllerError ?? 'the controller could not be asked' };
  return { ...base, status: 'False', reason: REASONS.asExpected, message: 'no failure observed' };
}

export function computeStatus(input: StatusInput): ModelWorkerStatus {
  const generation = input.mw.metadata.generation ?? 0;
  const previous = input.mw.status ?? {};
  let conditions = (previous.conditions ?? []);
  for (const c of [ready(input, generation), progressing(input, generation), degraded(input, generation)]) conditions = setCondition(conditions, c, input.nowIso);
  const s = input.deployment?.status;
  return {
    observedGeneration: generation,
    replicas: s?.replicas ?? 0,
    readyReplicas: s?.readyReplicas ?? 0,
    updatedReplicas: s?.updatedReplicas ?? 0,
    registeredWorkers: input.workers?.registered ?? previous.registeredWorkers ?? 0,
    queueLength: input.workers?.queueLength ?? previous.queueLength ?? 0,
    selector: input.selector,
    lastScaleTime: input.lastScaleTime ?? previous.lastScaleTime,
    conditions,
  };
}
