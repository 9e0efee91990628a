/**
 * A stand-in for a kubelet (there is none in envtest): a Node with GPU capacity that kube-scheduler can bind pods
 * to, and a loop that "runs" the pods bound to it — marks them Running/Ready with a pod IP, hands them to
 * `onRunning` (which plays the container, e.g. registers a worker) — and finishes deleting terminating pods after
 * handing them to `onTerminating`. Job pods can be completed with `finishPod`.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

export interface FakeKubeletOptions {
  kc: KubeConfig;
  nodeName: string;
  labels?: Record<string, string>;
  capacity?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>;
  onRunning?: (pod: V1Pod) => Promise<void>;
  onTerminating?: (pod: V1Pod) => Promise<void>;
  /** Leave pods Pending (a Job test completes them itself). */
  autoRun?: boolean;
  /** First three octets of the pod IPs this node hands out (default 10.244.0). */
  podSubnet?: string;
}

export interface FakeKubelet {
  /** Sets a pod's phase to Succeeded or Failed with the container's exit code. */
  finishPod(namespace: string, name: string, exitCode: number): Promise<void>;
  stop(): Promise<void>;
}

const mergePatch = (): ReturnType<typeof setHeaderOptions> => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function createNode(core: CoreV1Api, o: FakeKubeletOptions): Promise<void> {
  const capacity = { cpu: '32', memory: '128Gi', pods: '110', ...o.capacity };
  await core.createNode({ body: { metadata: { name: o.nodeName, labels: { 'kubernetes.io/hostname': o.nodeName, ...o.labels } } } });
  const now = new Date().toISOString();
  await core.patchNodeStatus({ name: o.nodeName, body: { status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake kubelet', lastHeartbeatTime: now, lastTransitionTime: now }] } } }, mergePatch());
  // The API server taints new nodes not-ready; the node lifecycle controller (not run here) would lift that.
  await core.patchNode({ name: o.nodeName, body: { spec: { taints: o.taints ?? [] } } }, mergePatch());
}

function runningStatus(pod: V1Pod, ip: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '127.0.0.1', startTime: now,
    conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
  };
}

export async function startFakeKubelet(o: FakeKubeletOptions): Promise<FakeKubelet> {
  const core = o.kc.makeApiClient(CoreV1Api);
  await createNode(core, o);
  const started = new Set<string>();
  const terminated = new Set<string>();
  let nextIp = 10;
  let stopped = false;
  const tick = async (): Promise<void> => {
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${o.nodeName}` });
    for (const pod of pods.items) {
      const ns = pod.metadata?.namespace ?? '';
      const name = pod.metadata?.name ?? '';
      const uid = pod.metadata?.uid ?? name;
      if (pod.metadata?.deletionTimestamp) {
        if (!terminated.has(uid)) {
          terminated.add(uid);
          await o.onTerminating?.(pod);
        }
        await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 }).catch(() => undefined);
        continue;
      }
      if (o.autoRun === false || started.has(uid) || pod.status?.phase !== 'Pending') continue;
      started.add(uid);
      const ip = `${o.podSubnet ?? '10.244.0'}.${nextIp++}`;
      try {
        const running = await core.patchNamespacedPodStatus({ namespace: ns, name, body: { status: runningStatus(pod, ip) } }, mergePatch());
        await o.onRunning?.(running);
      } catch {
        started.delete(uid);
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return {
    finishPod: async (namespace, name, exitCode) => {
      const pod = await core.readNamespacedPod({ namespace, name });
      const now = new Date().toISOString();
      const containerStatuses = (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } } }));
      await core.patchNamespacedPodStatus({ namespace, name, body: { status: { phase: exitCode === 0 ? 'Succeeded' : 'Failed', podIP: '10.244.1.1', startTime: now, containerStatuses } } }, mergePatch());
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
