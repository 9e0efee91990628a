/**
 * End to end on simulated GPU nodes: the real operator and a real fleetchat controller, a real API server,
 * kube-controller-manager (deployment, replicaset, garbage-collector, node-lifecycle controllers) and kube-scheduler,
 * and KWOK as the kubelet of two fake nodes (one with 8 nvidia.com/gpu behind a taint, one plain CPU node). A
 * ModelWorker's Deployment rolls out for real: the scheduler places its pods by GPU capacity, kwok runs them, and
 * scaling, a spec edit and deletion go through the real controllers. kwok runs no containers, so no worker
 * registers with the fleetchat controller: the ModelWorker reports its pods ready but Ready=False
 * (WorkersNotRegistered); registration is covered by operator.test.ts with the fake kubelet.
 */
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../../src/common/config';
import { createLogger, silentLogger, type Logger } from '../../src/common/log';
import { controllerOptions, startController, type RunningController } from '../../src/controller/main';
import { GROUP, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker, ModelWorkerCondition } from '../../src/operator/api/v1alpha1/types';
import { SPEC_HASH_ANNOTATION } from '../../src/operator/modelworker/labels';
import { operatorOptions, startOperator, type RunningOperator } from '../../src/operator/main';
import { startEnvtest, type Envtest } from './envtest';
import { createNamespace, eventually, installCrd } from './support/kube';
import { findKwok, kwokDescribe, MANAGED_NODE_ANNOTATION, startKwok, type Kwok } from './support/kwok';

const GPU = 'nvidia.com/gpu';
const GPU_NODE = 'kwok-gpu-node';
const CPU_NODE = 'kwok-cpu-node';
const NAME = 'llama-gpu';
const SELECTOR = `fleetchat.dev/model-worker=${NAME}`;
const CONTROLLERS = ['deployment-controller', 'replicaset-controller', 'garbage-collector-controller', 'namespace-controller', 'serviceaccount-controller', 'node-lifecycle-controller'];

function testLogger(): Logger {
  const level = process.env.FLEETCHAT_TEST_LOG;
  return level ? createLogger({ level, format: 'json', stream: process.stderr }) : silentLogger();
}

const mergePatch = (): ReturnType<typeof setHeaderOptions> => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A Node as a cluster admin registers it for kwok: capacity in its status, kwok's annotation, taints in the spec. */
async function createKwokNode(kc: KubeConfig, name: string, extra: { labels?: Record<string, string>; capacity?: Record<string, string>; taints?: Array<{ key: string; effect: string }> }): Promise<void> {
  const capacity = { cpu: '32', memory: '128Gi', pods: '110', ...extra.capacity };
  const node: V1Node = {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...extra.labels }, annotations: { [MANAGED_NODE_ANNOTATION.key]: MANAGED_NODE_ANNOTATION.value } },
    spec: { taints: extra.taints ?? [] },
    status: { capacity, allocatable: capacity },
  };
  await kc.makeApiClient(CoreV1Api).createNode({ body: node });
}

/** Ready=True set by kwok, and the not-ready taint (TaintNodesByCondition) lifted by the node lifecycle controller. */
function schedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return ready && !(node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'));
}

function condition(mw: ModelWorker, type: ModelWorkerCondition['type']): ModelWorkerCondition | undefined {
  return mw.status?.conditions?.find((c) => c.type === type);
}

function describePod(pod: V1Pod): string {
  return `${pod.metadata?.name} ${pod.status?.phase} on ${pod.spec?.nodeName ?? '-'}${pod.metadata?.deletionTimestamp ? ' (terminating)' : ''}${isReady(pod) ? ' ready' : ''}`;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

const describeKwok = kwokDescribe();

describeKwok('ModelWorker rollout onto KWOK GPU nodes', () => {
  let env: Envtest;
  let kwok: Kwok | undefined;
  let controller: RunningController | undefined;
  let operator: RunningOperator | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  let ns: string;

  const getMw = async (): Promise<ModelWorker> => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: NAME })) as ModelWorker;
  const pods = async (): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: ns, labelSelector: SELECTOR })).items;
  /** Waits until the Deployment is fully rolled out at `replicas` and the ModelWorker's status says so. */
  const rolledOut = async (replicas: number): Promise<ModelWorker> => {
    await eventually(`Deployment rolled out at ${replicas} ready replicas`, async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: NAME });
      const s = d.status;
      const done = d.spec?.replicas === replicas && s?.observedGeneration === d.metadata?.generation && s?.replicas === replicas
        && s?.updatedReplicas === replicas && s?.readyReplicas === replicas && s?.availableReplicas === replicas;
      // Not done: say where it stands (eventually reports the last error).
      if (!done) throw new Error(`spec.replicas ${d.spec?.replicas}, status ${JSON.stringify(s)}; pods ${JSON.stringify((await pods()).map(describePod))}`);
      return true;
    }, 30_000);
    return eventually(`ModelWorker status at ${replicas} ready replicas`, async () => {
      const mw = await getMw();
      return mw.status?.observedGeneration === mw.metadata.generation && mw.status?.readyReplicas === replicas && mw.status?.replicas === replicas
        && condition(mw, 'Progressing')?.reason === 'RolloutComplete' && mw;
    }, 15_000);
  };

  beforeAll(async () => {
    const logger = testLogger();
    env = await startEnvtest({ controllers: true, controllerList: CONTROLLERS, beforeControllers: (kc) => installCrd(kc) });
    const kc = env.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    const binaries = findKwok();
    if (!binaries) throw new Error('kwok disappeared from the k8s-bins cache');
    kwok = await startKwok({ binaries, kubeconfigPath: env.kubeconfigPath, dir: env.dir });
    await createKwokNode(kc, GPU_NODE, { labels: { [`${GPU}.present`]: 'true' }, capacity: { [GPU]: '8' }, taints: [{ key: GPU, effect: 'NoSchedule' }] });
    await createKwokNode(kc, CPU_NODE, {});
    try {
      await eventually('both kwok nodes Ready and schedulable', async () => {
        const nodes = (await core.listNode()).items;
        return nodes.length === 2 && nodes.every(schedulable);
      }, 30_000);
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- kwok\n${kwok.logs()}\n${env.logs(15)}`);
    }
    controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-expiry', '10m']), logger);
    ns = await createNamespace(kc, 'kwok-rollout');
    operator = await startOperator(parseConfig(operatorOptions, [
      '--namespace', ns, '--controller', controller.address, '--worker-image', 'registry.example/fleetchat:test',
      '--metrics-listen', '127.0.0.1:0', '--poll-interval', '300ms', '--retry-base-delay', '50ms', '--retry-max-delay', '2s',
      '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '250ms', '--finalizer-timeout', '5s', '--controller-timeout', '1s',
    ]), logger, { kubeConfig: kc });
    await eventually('operator leads', async () => operator?.isLeader());
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await kwok?.stop();
    await controller?.stop(100);
    await env?.stop();
  });

  it('kwok runs the GPU node as a kubelet would: Ready, a renewed Lease, its GPUs allocatable, the taint kept', async () => {
    const node = await core.readNode({ name: GPU_NODE });
    expect(node.status?.allocatable?.[GPU]).toBe('8');
    expect(node.status?.nodeInfo?.kubeletVersion).toMatch(/^kwok-/);
    expect(node.spec?.taints).toEqual([{ key: GPU, effect: 'NoSchedule' }]);
    const lease = await eventually('node Lease', async () => (await env.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'kube-node-lease', name: GPU_NODE })));
    expect(lease.spec?.leaseDurationSeconds).toBe(40);
    expect(lease.spec?.renewTime).toBeDefined();
  });

  it('rolls the Deployment out onto the GPU node: pods request GPUs, are bound by the scheduler and run by kwok', async () => {
    await custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, plural: PLURAL, namespace: ns,
      body: {
        apiVersion: `${GROUP}/${VERSION}`, kind: 'ModelWorker', metadata: { name: NAME },
        spec: {
          model: { source: 'hf:meta-llama/Llama-3.2-1B-Instruct' }, replicas: 2, maxConcurrency: 16,
          resources: { requests: { cpu: '2', memory: '8Gi', [GPU]: 2 } },
          nodeSelector: { [`${GPU}.present`]: 'true' },
          tolerations: [{ key: GPU, operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
    });
    const mw = await rolledOut(2);
    expect(mw.status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, registeredWorkers: 0 });
    // The pods are ready; no worker process ran to register with the controller.
    expect(condition(mw, 'Ready')).toMatchObject({ status: 'False', reason: 'WorkersNotRegistered' });
    const running = await pods();
    expect(running).toHaveLength(2);
    for (const pod of running) {
      expect(pod.spec?.nodeName).toBe(GPU_NODE);
      expect(isReady(pod)).toBe(true);
      expect(pod.status?.podIP).toMatch(/^10\.244\.1\.\d+$/);
      // 2 GPUs per pod on the ONNX engine: two worker containers, one GPU each (the scheduler counts the pod's sum)
      expect(pod.spec?.containers.map((c) => [c.name, c.resources?.requests?.[GPU], c.resources?.limits?.[GPU]])).toEqual([['worker', '1', '1'], ['worker-1', '1', '1']]);
      // The GPU image (the operator's --worker-image tag + "-gpu"), CUDA, TF32 off.
      expect(pod.spec?.containers[0].image).toBe('registry.example/fleetchat:test-gpu');
      expect(pod.spec?.containers[0].args).toEqual(expect.arrayContaining(['--device', 'cuda']));
      expect(pod.spec?.containers[0].env).toEqual(expect.arrayContaining([{ name: 'NVIDIA_TF32_OVERRIDE', value: '0' }]));
      expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    }
  });

  it('scales through the scale subresource until the node runs out of GPUs; the pod that does not fit stays Pending', async () => {
    const scale = (replicas: number): Promise<unknown> => custom.patchNamespacedCustomObjectScale({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: NAME, body: { spec: { replicas } } }, mergePatch());
    await scale(4);
    await rolledOut(4);
    expect((await pods()).every((p) => p.spec?.nodeName === GPU_NODE && isReady(p))).toBe(true);

    await scale(5);
    const pending = await eventually('a fifth pod the scheduler cannot place', async () => {
      const unscheduled = (await pods()).filter((p) => !p.spec?.nodeName);
      const cond = unscheduled[0]?.status?.conditions?.find((c) => c.type === 'PodScheduled');
      return cond?.reason === 'Unschedulable' && { pod: unscheduled[0], cond };
    }, 20_000);
    expect(pending.pod.status?.phase).toBe('Pending');
    expect(pending.cond.message).toContain(`Insufficient ${GPU}`);
    const mw = await eventually('ModelWorker sees 4/5 ready', async () => {
      const got = await getMw();
      return got.status?.replicas === 5 && got.status?.readyReplicas === 4 && got;
    }, 15_000);
    expect(condition(mw, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicasNotReady', message: '4/5 pods ready' });

    await scale(3);
    await rolledOut(3);
    await eventually('the two pods scaled away are gone', async () => (await pods()).length === 3, 15_000);
  });

  it('rolls a spec edit out as a new ReplicaSet; kwok finishes the old pods as they are retired', async () => {
    const before = await pods();
    const oldNames = new Set(before.map((p) => p.metadata?.name));
    const hashBefore = (await apps.readNamespacedDeployment({ namespace: ns, name: NAME })).spec?.template.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: NAME, body: { spec: { maxConcurrency: 8 } } }, mergePatch());
    await eventually('new pod template', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: NAME });
      return d.spec?.template.metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== hashBefore;
    });
    await rolledOut(3);
    const after = await eventually('only new pods left', async () => {
      const list = await pods();
      return list.length === 3 && list.every((p) => !oldNames.has(p.metadata?.name) && !p.metadata?.deletionTimestamp) && list;
    }, 20_000);
    for (const pod of after) {
      expect(pod.spec?.nodeName).toBe(GPU_NODE);
      expect(isReady(pod)).toBe(true);
      const args = pod.spec?.containers[0].args ?? [];
      expect(args[args.indexOf('--max-concurrency') + 1]).toBe('8');
    }
    const sets = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: SELECTOR })).items;
    expect(sets).toHaveLength(2);
    const byReplicas = sets.map((rs) => [rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0]).sort((a, b) => a[0] - b[0]);
    expect(byReplicas).toEqual([[0, 0], [3, 3]]);
  });

  it('deleting the ModelWorker garbage-collects its Deployment, ReplicaSets and pods, freeing the GPUs', async () => {
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: NAME });
    await eventually('children garbage-collected', async () => {
      const [d, rs, s, p] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: ns }), apps.listNamespacedReplicaSet({ namespace: ns }),
        core.listNamespacedService({ namespace: ns }), core.listNamespacedPod({ namespace: ns }),
      ]);
      return d.items.length + rs.items.length + s.items.length + p.items.length === 0;
    }, 30_000);
    await expect(getMw()).rejects.toThrow();
    expect((await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${GPU_NODE}` })).items).toEqual([]);
  });
});
