import { Metadata } from '@grpc/grpc-js';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { ControllerClient } from '../../src/common/gen/controller';
import { createClient, unary } from '../../src/common/grpc/client';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker } from '../../src/operator/api/v1alpha1/types';
import { k8sDescribe } from './envtest';
import { eventually } from './support/kube';
import { startOperatorEnv, type OperatorEnv } from './support/operator-env';

const ready = (mw: ModelWorker): boolean => mw.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('queue-length autoscaling on a real API server', () => {
  let o: OperatorEnv;
  let controller: ControllerClient;
  beforeAll(async () => {
    o = await startOperatorEnv();
    controller = createClient(ControllerClient, o.controller.address);
  }, 120_000);
  afterAll(async () => {
    controller?.close();
    await o?.stop();
  });

  const workerIds = async (ns: string): Promise<string[]> =>
    (await unary(controller.listWorkers.bind(controller), { model: '' }, new Metadata(), 5000)).workers.map((w) => w.workerId).filter((id) => id.startsWith(`${ns}.`));

  it('scales up on load at once, and down only after the stabilisation window', async () => {
    const ns = await o.newNamespace('autoscale');
    await o.startOperator(ns);
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    const apps = o.kc.makeApiClient(AppsV1Api);
    await custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, plural: PLURAL, namespace: ns,
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'elastic' }, spec: { model: { source: 'default', names: ['tiny'] }, autoscaling: { minReplicas: 1, maxReplicas: 3, targetQueueLength: 2, scaleDownStabilizationSeconds: 6 } } },
    });
    await eventually('one ready worker', async () => ready(await o.getModelWorker(ns, 'elastic')) && (await workerIds(ns)).length === 1, 60_000);

    // 3 waiting + 2 running on the only worker: ceil(5 / 2) = 3 replicas.
    const [first] = await workerIds(ns);
    await o.workers.setLoad(o.controller.address, first, 3, 2);
    const up = await eventually('scaled to 3', async () => {
      const mw = await o.getModelWorker(ns, 'elastic');
      return mw.spec.replicas === 3 && mw.status?.lastScaleTime !== undefined && mw;
    }, 30_000);
    expect(Date.parse(up.status!.lastScaleTime!)).toBeGreaterThan(Date.now() - 30_000);
    await eventually('Deployment at 3, three workers registered', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'elastic' });
      return d.spec?.replicas === 3 && (await workerIds(ns)).length === 3;
    }, 60_000);
    const scaledEvents = await o.kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=elastic,reason=Scaled' });
    expect(scaledEvents.items.map((e) => e.message)).toContain('scaled from 1 to 3 replicas (load 5, target 2 per worker)');

    // Load gone: the scale-down waits for a 6 s window of lower recommendations (counted from the last high one,
    // which the operator saw at most one poll before the drop; 2 s of slack for a busy machine).
    for (const id of await workerIds(ns)) await o.workers.setLoad(o.controller.address, id, 0, 0);
    const droppedAt = Date.now();
    await eventually('scaled back to 1', async () => (await o.getModelWorker(ns, 'elastic')).spec.replicas === 1, 30_000);
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(4000);
    await eventually('Deployment at 1', async () => (await apps.readNamespacedDeployment({ namespace: ns, name: 'elastic' })).spec?.replicas === 1);
  });

  it('keeps a manual replica count within the autoscaling bounds', async () => {
    const ns = await o.newNamespace('bounds');
    await o.startOperator(ns);
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, plural: PLURAL, namespace: ns,
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'bounded' }, spec: { model: { source: 'default' }, replicas: 9, autoscaling: { minReplicas: 1, maxReplicas: 2 } } },
    });
    await eventually('clamped to max', async () => (await o.getModelWorker(ns, 'bounded')).spec.replicas === 2, 30_000);
  });
});
