import type { V1Deployment } from '@kubernetes/client-node';
import type { ModelWorker, ModelWorkerCondition } from '../../../src/operator/api/v1alpha1/types';
import { computeStatus, type StatusInput } from '../../../src/operator/modelworker/status';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:05:00.000Z';

function mw(status?: ModelWorker['status']): ModelWorker {
  return { apiVersion: 'fleetchat.dev/v1alpha1', kind: 'ModelWorker', metadata: { name: 'm', namespace: 'n', generation: 3 }, spec: { model: { source: 'default' } }, status };
}

function deployment(status: NonNullable<V1Deployment['status']>, generation = 7): V1Deployment {
  return { metadata: { generation }, status: { observedGeneration: generation, ...status } };
}

function input(over: Partial<StatusInput>): StatusInput {
  return { mw: mw(), desiredReplicas: 2, deployment: deployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }), workers: { registered: 2, queueLength: 0 }, selector: 'a=b', nowIso: T0, ...over };
}

function conditions(i: StatusInput): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const c of computeStatus(i).conditions ?? []) out[c.type] = [c.status, c.reason];
  return out;
}

describe('ModelWorker status', () => {
  it.each<[string, Partial<StatusInput>, Record<string, [string, string]>]>([
    ['everything up', {}, { Ready: ['True', 'WorkersReady'], Progressing: ['False', 'RolloutComplete'], Degraded: ['False', 'AsExpected'] }],
    ['pods not ready yet', { deployment: deployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }) }, { Ready: ['False', 'ReplicasNotReady'], Progressing: ['True', 'RollingOut'], Degraded: ['False', 'AsExpected'] }],
    ['pods ready, workers not registered', { workers: { registered: 1, queueLength: 0 } }, { Ready: ['False', 'WorkersNotRegistered'], Progressing: ['False', 'RolloutComplete'], Degraded: ['False', 'AsExpected'] }],
    ['old pods still running', { deployment: deployment({ replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 }) }, { Ready: ['True', 'WorkersReady'], Progressing: ['True', 'RollingOut'], Degraded: ['False', 'AsExpected'] }],
    ['Deployment controller has not seen the new spec', { deployment: { metadata: { generation: 8 }, status: { observedGeneration: 7, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 } } }, { Ready: ['True', 'WorkersReady'], Progressing: ['True', 'RollingOut'], Degraded: ['False', 'AsExpected'] }],
    ['controller unreachable', { workers: undefined, controllerError: 'down' }, { Ready: ['Unknown', 'ControllerUnreachable'], Progressing: ['False', 'RolloutComplete'], Degraded: ['True', 'ControllerUnreachable'] }],
    ['apply failed, no Deployment', { deployment: undefined, applyError: 'bad' }, { Ready: ['False', 'ReplicasNotReady'], Progressing: ['False', 'ApplyFailed'], Degraded: ['True', 'ApplyFailed'] }],
    ['scaled to zero', { desiredReplicas: 0, deployment: deployment({ replicas: 0 }) }, { Ready: ['False', 'ScaledToZero'], Progressing: ['False', 'RolloutComplete'], Degraded: ['False', 'AsExpected'] }],
    ['rollout deadline passed', { deployment: deployment({ replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'slow' }] }) }, { Ready: ['False', 'ReplicasNotReady'], Progressing: ['False', 'ProgressDeadlineExceeded'], Degraded: ['True', 'ProgressDeadlineExceeded'] }],
    ['pods cannot be created', { deployment: deployment({ replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota' }] }) }, { Ready: ['False', 'ReplicasNotReady'], Progressing: ['True', 'RollingOut'], Degraded: ['True', 'ReplicaFailure'] }],
    ['engine crashing while the Deployment still counts its pod ready', { engine: { failing: 'pod p: engine container CrashLoopBackOff', ready: 1 } }, { Ready: ['False', 'EngineFailing'], Progressing: ['False', 'RolloutComplete'], Degraded: ['True', 'EngineFailing'] }],
    ['engine containers all ready', { engine: { ready: 2 } }, { Ready: ['True', 'WorkersReady'], Progressing: ['False', 'RolloutComplete'], Degraded: ['False', 'AsExpected'] }],
    ['invalid spec', { invalidSpec: 'no', deployment: undefined }, { Ready: ['False', 'InvalidSpec'], Progressing: ['False', 'InvalidSpec'], Degraded: ['True', 'InvalidSpec'] }],
  ])('%s', (_name, over, expected) => {
    expect(conditions(input(over))).toEqual(expected);
  });

  it('keeps lastTransitionTime while a condition holds and moves it when the status flips', () => {
    const first = computeStatus(input({ nowIso: T0 }));
    const same = computeStatus(input({ mw: mw(first), nowIso: T1 }));
    const flipped = computeStatus(input({ mw: mw(first), nowIso: T1, workers: { registered: 0, queueLength: 0 } }));
    const ready = (s: { conditions?: ModelWorkerCondition[] }): ModelWorkerCondition => s.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready(same).lastTransitionTime).toBe(T0);
    expect(ready(flipped).lastTransitionTime).toBe(T1);
    expect(ready(flipped).observedGeneration).toBe(3);
  });

  it('copies counts from the Deployment and the registry, keeping the last registry count when the controller is down', () => {
    const s = computeStatus(input({ workers: { registered: 2, queueLength: 9 } }));
    expect(s).toMatchObject({ observedGeneration: 3, replicas: 2, readyReplicas: 2, updatedReplicas: 2, registeredWorkers: 2, queueLength: 9, selector: 'a=b' });
    expect(computeStatus(input({ mw: mw(s), workers: undefined })).registeredWorkers).toBe(2);
  });
});
