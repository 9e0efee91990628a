import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker, ModelWorkerCondition } from '../../src/operator/api/v1alpha1/types';
import { reconcileModelWorker } from '../../src/operator/modelworker/reconcile';
import { FINALIZER } from '../../src/operator/modelworker/labels';
import { k8sDescribe } from './envtest';
import { eventually } from './support/kube';
import { startOperatorEnv, type OperatorEnv } from './support/operator-env';

function condition(mw: ModelWorker, type: ModelWorkerCondition['type']): ModelWorkerCondition | undefined {
  return mw.status?.conditions?.find((c) => c.type === type);
}

function manifest(namespace: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('operator failure handling on a real API server', () => {
  let o: OperatorEnv;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  beforeAll(async () => {
    o = await startOperatorEnv();
    custom = o.kc.makeApiClient(CustomObjectsApi);
    core = o.kc.makeApiClient(CoreV1Api);
  }, 120_000);
  afterAll(() => o?.stop());

  const create = (ns: string, name: string, spec: Record<string, unknown>): Promise<unknown> =>
    custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, body: manifest(ns, name, spec) });
  const events = async (ns: string, name: string, reason: string): Promise<string[]> =>
    (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items.map((e) => e.message ?? '');

  it('reports a Deployment the API server refuses as Degraded/ApplyFailed with a Warning event, and retries', async () => {
    const ns = await o.newNamespace('apply-failed');
    const op = await o.startOperator(ns);
    // Passes the ModelWorker schema (affinity is free-form there) but not the Deployment's validation.
    await create(ns, 'bad-affinity', { model: { source: 'default' }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } });
    const mw = await eventually('Degraded=True', async () => {
      const got = await o.getModelWorker(ns, 'bad-affinity');
      return condition(got, 'Degraded')?.status === 'True' && got;
    });
    expect(condition(mw, 'Degraded')).toMatchObject({ reason: 'ApplyFailed', message: expect.stringMatching(/nodeSelectorTerms: Required value: must have at least one node selector term/) });
    expect(condition(mw, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicasNotReady' });
    const warnings = await eventually('ApplyFailed event', async () => {
      const got = await events(ns, 'bad-affinity', 'ApplyFailed');
      return got.length > 0 && got;
    });
    expect(warnings[0]).toMatch(/^applying the certificate\/Deployment\/Service failed: Deployment.apps "bad-affinity" is invalid/);
    await eventually('retried', async () => (await metric(op.ops.url, 'fleetchat_operator_reconcile_total{result="error"}')) >= 2);

    // Fixing the spec clears the condition.
    const current = await o.getModelWorker(ns, 'bad-affinity');
    await custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'bad-affinity', body: { ...current, spec: { ...current.spec, affinity: undefined } } });
    const fixed = await eventually('Ready after the fix', async () => {
      const got = await o.getModelWorker(ns, 'bad-affinity');
      return condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(condition(fixed, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('reports an unreachable controller as Degraded/ControllerUnreachable and Ready=Unknown', async () => {
    const ns = await o.newNamespace('no-controller');
    await o.startOperator(ns);
    await create(ns, 'lonely', { model: { source: 'default' }, controllerAddress: '127.0.0.1:1' });
    const mw = await eventually('ControllerUnreachable', async () => {
      const got = await o.getModelWorker(ns, 'lonely');
      return condition(got, 'Ready')?.status === 'Unknown' && got;
    }, 60_000);
    expect(condition(mw, 'Ready')?.reason).toBe('ControllerUnreachable');
    expect(condition(mw, 'Degraded')).toMatchObject({ status: 'True', reason: 'ControllerUnreachable', message: expect.stringContaining('127.0.0.1:1') });
    expect(mw.status?.readyReplicas).toBe(1);
  });

  it('reports a spec it cannot run as InvalidSpec without retrying', async () => {
    const ns = await o.newNamespace('invalid');
    await o.startOperator(ns);
    await create(ns, 'escape', { model: { source: 'pvc://models/../../etc' } });
    const mw = await eventually('InvalidSpec', async () => {
      const got = await o.getModelWorker(ns, 'escape');
      return condition(got, 'Degraded')?.reason === 'InvalidSpec' && got;
    });
    expect(condition(mw, 'Degraded')?.message).toMatch(/must not contain '\.\.'/);
    expect(await events(ns, 'escape', 'InvalidSpec')).toHaveLength(1);
  });

  it('retries a reconcile that hit a resourceVersion conflict and converges', async () => {
    const ns = await o.newNamespace('conflict');
    await create(ns, 'raced', { model: { source: 'default' } });
    const stale = await o.getModelWorker(ns, 'raced');
    // Someone else changes the object after our (stale) read: its resourceVersion moves on.
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'raced', body: [{ op: 'add', path: '/metadata/labels', value: { team: 'a' } }] });
    let served = false;
    const op = await o.startOperator(ns, [], {
      reconcile: (ctx, key) => {
        if (served) return reconcileModelWorker(ctx, key);
        served = true;
        return reconcileModelWorker({ ...ctx, getModelWorker: () => stale }, key);
      },
    });
    const mw = await eventually('Ready despite the conflict', async () => {
      const got = await o.getModelWorker(ns, 'raced');
      return condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(mw.metadata.finalizers).toEqual([FINALIZER]);
    expect(mw.metadata.labels).toEqual({ team: 'a' });
    expect(served).toBe(true);
    expect(await metric(op.ops.url, 'fleetchat_operator_reconcile_total{result="conflict"}')).toBeGreaterThanOrEqual(1);
  });
});
