import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Deployment } from '@kubernetes/client-node';
import { Metadata } from '@grpc/grpc-js';
import { ControllerClient } from '../../src/common/gen/controller';
import { createClient, unary } from '../../src/common/grpc/client';
import { GROUP, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker, ModelWorkerCondition } from '../../src/operator/api/v1alpha1/types';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../src/operator/modelworker/labels';
import type { RunningOperator } from '../../src/operator/main';
import { k8sDescribe } from './envtest';
import { applyFile, eventually } from './support/kube';
import { startOperatorEnv, type OperatorEnv } from './support/operator-env';

const EXAMPLES = join(__dirname, '../../examples');

function condition(mw: ModelWorker, type: ModelWorkerCondition['type']): ModelWorkerCondition | undefined {
  return mw.status?.conditions?.find((c) => c.type === type);
}

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('operator on a real API server', () => {
  let o: OperatorEnv;
  let ns: string;
  let operator: RunningOperator;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let controller: ControllerClient;

  const workerIds = async (): Promise<string[]> => (await unary(controller.listWorkers.bind(controller), { model: '' }, new Metadata(), 5000)).workers.map((w) => w.workerId).sort();

  beforeAll(async () => {
    o = await startOperatorEnv();
    apps = o.kc.makeApiClient(AppsV1Api);
    core = o.kc.makeApiClient(CoreV1Api);
    controller = createClient(ControllerClient, o.controller.address);
    ns = await o.newNamespace('lifecycle');
    operator = await o.startOperator(ns);
    await eventually('operator leads', async () => operator.isLeader());
  }, 120_000);
  afterAll(async () => {
    controller?.close();
    await o?.stop();
  });

  it('creates the Deployment and Service of the GPU example with GPU requests, selectors and owner references', async () => {
    await applyFile(o.kc, join(EXAMPLES, 'modelworker-gpu.yaml'), { namespace: ns });
    const mw = await o.getModelWorker(ns, 'qwen2-5-0-5b');
    const deployment = await eventually('Deployment', () => apps.readNamespacedDeployment({ namespace: ns, name: 'qwen2-5-0-5b' }));
    const service = await eventually('Service', () => core.readNamespacedService({ namespace: ns, name: 'qwen2-5-0-5b' }));
    const pod = deployment.spec!.template;
    const container = pod.spec!.containers[0];
    expect(deployment.spec!.replicas).toBe(2);
    expect(container.resources).toEqual({ requests: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' }, limits: { memory: '16Gi', 'nvidia.com/gpu': '1' } });
    expect(pod.spec!.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(container.image).toBe('registry.example/fleetchat:test-gpu');
    expect(container.args!.slice(container.args!.indexOf('--device'), container.args!.indexOf('--device') + 2)).toEqual(['--device', 'cuda']);
    expect(pod.spec!.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(deployment.spec!.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'fleetchat-worker', 'fleetchat.dev/model-worker': 'qwen2-5-0-5b' });
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(service.spec!.clusterIP).toBe('None');
    for (const child of [deployment, service]) {
      expect(child.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'ModelWorker', name: 'qwen2-5-0-5b', uid: mw.metadata.uid, controller: true, blockOwnerDeletion: true })]);
      expect(child.metadata!.managedFields!.some((f) => f.manager === 'fleetchat-operator' && f.operation === 'Apply')).toBe(true);
    }
    expect(pod.metadata!.annotations![SPEC_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    expect(container.env).toEqual(expect.arrayContaining([{ name: 'FLEETCHAT_HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } }]));
    expect(mw.metadata.finalizers ?? (await o.getModelWorker(ns, 'qwen2-5-0-5b')).metadata.finalizers).toContain(FINALIZER);
  });

  it('reports Ready once the pods run and their workers registered with the controller', async () => {
    const mw = await eventually('Ready=True', async () => {
      const got = await o.getModelWorker(ns, 'qwen2-5-0-5b');
      return condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(mw.status).toMatchObject({ observedGeneration: mw.metadata.generation, replicas: 2, readyReplicas: 2, updatedReplicas: 2, registeredWorkers: 2 });
    expect(condition(mw, 'Ready')).toMatchObject({ reason: 'WorkersReady', observedGeneration: mw.metadata.generation });
    expect(condition(mw, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    expect(condition(mw, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    const ids = await workerIds();
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(new RegExp(`^${ns}\\.qwen2-5-0-5b-[a-z0-9]+-[a-z0-9]{5}$`));
  });

  it('rolls the Deployment when the spec changes', async () => {
    const before = await apps.readNamespacedDeployment({ namespace: ns, name: 'qwen2-5-0-5b' });
    const hashBefore = before.spec!.template.metadata!.annotations![SPEC_HASH_ANNOTATION];
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    const mw = await o.getModelWorker(ns, 'qwen2-5-0-5b');
    await custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'qwen2-5-0-5b', body: { ...mw, spec: { ...mw.spec, maxConcurrency: 8 } } });
    const rolled: V1Deployment = await eventually('new pod template', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'qwen2-5-0-5b' });
      return d.spec!.template.metadata!.annotations![SPEC_HASH_ANNOTATION] !== hashBefore && d;
    });
    const args = rolled.spec!.template.spec!.containers[0].args!;
    expect(args[args.indexOf('--max-concurrency') + 1]).toBe('8');
    const done = await eventually('rollout complete and Ready again', async () => {
      const got = await o.getModelWorker(ns, 'qwen2-5-0-5b');
      return got.status?.observedGeneration === got.metadata.generation && condition(got, 'Progressing')?.reason === 'RolloutComplete' && got.status?.registeredWorkers === 2 && condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(done.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, registeredWorkers: 2 });
    const sets = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'fleetchat.dev/model-worker=qwen2-5-0-5b' });
    expect(sets.items.length).toBe(2);
  });

  it('deletes through the finalizer (workers deregistered) and the garbage collector removes the children', async () => {
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    // The rollout above replaced both pods; the last old pod's worker may still be deregistering.
    await eventually('two workers registered', async () => (await workerIds()).filter((id) => id.startsWith(`${ns}.qwen2-5-0-5b-`)).length === 2, 30_000);
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'qwen2-5-0-5b' });
    await eventually('ModelWorker gone', async () => {
      try {
        await o.getModelWorker(ns, 'qwen2-5-0-5b');
        return false;
      } catch {
        return true;
      }
    });
    expect((await workerIds()).filter((id) => id.startsWith(`${ns}.`))).toEqual([]);
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=qwen2-5-0-5b,reason=WorkersDeregistered' });
    expect(events.items[0]?.message).toMatch(/^deregistered 2 worker\(s\) from the controller/);
    await eventually('children garbage-collected', async () => {
      const [d, s, p] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: ns }), core.listNamespacedService({ namespace: ns }),
        core.listNamespacedPod({ namespace: ns }),
      ]);
      return d.items.length === 0 && s.items.length === 0 && p.items.length === 0;
    }, 60_000);
  });

  it('runs one worker per GPU: a pod asking for 4 GPUs has 4 worker containers with one GPU each, all registered', async () => {
    const gpuNs = await o.newNamespace('multigpu');
    const op = await o.startOperator(gpuNs);
    await eventually('multi-GPU operator leads', async () => op.isLeader());
    await applyFile(o.kc, join(EXAMPLES, 'modelworker-multigpu.yaml'), { namespace: gpuNs });
    const deployment = await eventually('Deployment', () => apps.readNamespacedDeployment({ namespace: gpuNs, name: 'llama-3-2-1b-x4' }));
    const containers = deployment.spec!.template.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual(['worker', 'worker-1', 'worker-2', 'worker-3']);
    containers.forEach((c, i) => {
      expect(c.resources).toEqual({ requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '16Gi', 'nvidia.com/gpu': '1' } });
      const arg = (flag: string): string => c.args![c.args!.indexOf(flag) + 1];
      expect([arg('--listen'), arg('--metrics-listen'), arg('--worker-id'), arg('--device')]).toEqual([`0.0.0.0:${21011 + 10 * i}`, `0.0.0.0:${21012 + 10 * i}`, `$(POD_NAMESPACE).$(POD_NAME).gpu${i}`, 'cuda']);
      expect(c.ports!.map((p) => p.containerPort)).toEqual([21011 + 10 * i, 21012 + 10 * i]);
      expect(c.readinessProbe!.httpGet!.port).toBe(c.ports![1].name);
    });
    const mw = await eventually('Ready=True with 4 workers', async () => {
      const got = await o.getModelWorker(gpuNs, 'llama-3-2-1b-x4');
      return condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(mw.status).toMatchObject({ readyReplicas: 1, registeredWorkers: 4 });
    expect(condition(mw, 'Ready')!.message).toBe('1 pods ready, 4 workers registered');
    const ids = (await workerIds()).filter((id) => id.startsWith(`${gpuNs}.`));
    expect(ids).toHaveLength(4);
    ids.forEach((id, i) => expect(id).toMatch(new RegExp(`^${gpuNs}\\.llama-3-2-1b-x4-[a-z0-9]+-[a-z0-9]{5}\\.gpu${i}$`)));
  });

  it('applies every example manifest', async () => {
    const exNs = await o.newNamespace('examples');
    const op = await o.startOperator(exNs);
    await eventually('second operator leads', async () => op.isLeader());
    for (const file of ['modelworker-tiny.yaml', 'modelworker-gpu.yaml', 'modelworker-autoscale.yaml', 'modelworker-pvc.yaml']) await applyFile(o.kc, join(EXAMPLES, file), { namespace: exNs });
    const deployments = await eventually('four Deployments', async () => {
      const list = await apps.listNamespacedDeployment({ namespace: exNs });
      return list.items.length === 4 && new Map(list.items.map((d) => [d.metadata!.name!, d]));
    });
    const pvc = deployments.get('vicuna-7b')!.spec!.template.spec!;
    expect(pvc.volumes).toEqual(expect.arrayContaining([{ name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } }, { name: 'cache', persistentVolumeClaim: { claimName: 'fleetchat-cache' } }]));
    expect(pvc.containers[0].args).toEqual(expect.arrayContaining(['--model', '/models/models/vicuna-7b-v1.5-onnx', '--conv-template', 'vicuna_v1.1']));
    expect(deployments.get('llama-3-2-1b')!.spec!.replicas).toBe(1);
    const tiny = await eventually('tiny Ready', async () => {
      const got = await o.getModelWorker(exNs, 'tiny');
      return condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(tiny.status).toMatchObject({ readyReplicas: 1, registeredWorkers: 1 });
  });
});
