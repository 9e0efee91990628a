/**
 * ModelWorkers whose model another engine runs, on a real API server with the real operator, controllers and fake
 * kubelets: the vLLM example renders a pod a vLLM user recognises (image, --model, --served-model-name, tensor
 * parallelism from the GPU count, /dev/shm, model cache, /health readiness) with the fleetchat adapter beside it
 * (flags the real worker CLI accepts), rolls out and registers; the API server refuses specs the engines cannot run;
 * a hosted model's key comes from a Secret; an engine container in a crash loop makes the ModelWorker Degraded.
 */
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Container, type V1Deployment } from '@kubernetes/client-node';
import { parseConfig } from '../../src/common/config';
import { GROUP, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker, ModelWorkerCondition } from '../../src/operator/api/v1alpha1/types';
import type { RunningOperator } from '../../src/operator/main';
import { workerOptions } from '../../src/worker/main';
import { k8sDescribe } from './envtest';
import { applyFile, eventually, expectRejected } from './support/kube';
import { startOperatorEnv, type OperatorEnv } from './support/operator-env';
import { expandArgs } from './support/simulated-worker';

const EXAMPLES = join(__dirname, '../../examples');
const mergePatch = (): ReturnType<typeof setHeaderOptions> => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function condition(mw: ModelWorker, type: ModelWorkerCondition['type']): ModelWorkerCondition | undefined {
  return mw.status?.conditions?.find((c) => c.type === type);
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('external engines on a real API server', () => {
  let o: OperatorEnv;
  let ns: string;
  let operator: RunningOperator;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    o = await startOperatorEnv();
    apps = o.kc.makeApiClient(AppsV1Api);
    core = o.kc.makeApiClient(CoreV1Api);
    custom = o.kc.makeApiClient(CustomObjectsApi);
    ns = await o.newNamespace('engines');
    operator = await o.startOperator(ns);
    await eventually('operator leads', async () => operator.isLeader());
  }, 120_000);
  afterAll(async () => o?.stop());

  it('renders the vLLM example as vLLM\'s own container plus the fleetchat adapter, rolls it out and registers it', async () => {
    await applyFile(o.kc, join(EXAMPLES, 'modelworker-vllm-gpu.yaml'), { namespace: ns });
    const deployment: V1Deployment = await eventually('Deployment', () => apps.readNamespacedDeployment({ namespace: ns, name: 'qwen2-5-7b' }));
    const pod = deployment.spec!.template.spec!;
    expect(pod.containers.map((c) => c.name)).toEqual(['engine', 'worker']);
    const [engine, adapter] = pod.containers as [V1Container, V1Container];
    expect(engine.image).toBe('vllm/vllm-openai:v0.11.0');
    expect(engine.command).toEqual(['python3', '-m', 'vllm.entrypoints.openai.api_server']);
    const args = engine.args!;
    expect(flag(args, '--model')).toBe('Qwen/Qwen2.5-7B-Instruct');
    expect(flag(args, '--served-model-name')).toBe('qwen2.5-7b-instruct');
    expect(flag(args, '--tensor-parallel-size')).toBe('2');
    expect(flag(args, '--max-num-seqs')).toBe('128');
    expect(args.slice(-4)).toEqual(['--max-model-len', '16384', '--gpu-memory-utilization', '0.90']);
    expect(engine.resources).toEqual({ requests: { cpu: '8', memory: '48Gi', 'nvidia.com/gpu': '2' }, limits: { memory: '64Gi', 'nvidia.com/gpu': '2' } });
    expect(engine.readinessProbe?.httpGet).toMatchObject({ path: '/health', port: 'engine' });
    expect(engine.startupProbe?.failureThreshold).toBe(360);
    expect(engine.env).toEqual(expect.arrayContaining([{ name: 'HF_HOME', value: '/var/cache/fleetchat/hf' }, { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } }]));
    expect(engine.volumeMounts).toEqual(expect.arrayContaining([{ name: 'shm', mountPath: '/dev/shm' }, { name: 'cache', mountPath: '/var/cache/fleetchat' }]));
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } }, { name: 'cache', emptyDir: { sizeLimit: '60Gi' } }]));
    // The adapter: flags the real worker CLI accepts, pointing at the engine over localhost; no GPU for it.
    const expanded = expandArgs({ metadata: { name: 'qwen2-5-7b-x', namespace: ns }, status: { podIP: '10.0.0.9' }, spec: pod }, adapter);
    expect(expanded[0]).toBe('worker');
    expect(parseConfig(workerOptions, expanded.slice(1))).toMatchObject({
      engine: 'openai', upstream: 'http://127.0.0.1:8000', upstreamApi: 'vllm', upstreamModel: 'qwen2.5-7b-instruct', modelNames: ['qwen2.5-7b-instruct'],
      maxConcurrency: 128, advertiseAddress: '10.0.0.9:21011', workerId: `${ns}.qwen2-5-7b-x`,
    });
    expect(adapter.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(adapter.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'metrics' });
    // Scheduled on the GPU node by the real scheduler, run by the fake kubelet; the adapter registers: Ready.
    const ready = await eventually('Ready=True', async () => {
      const got = await o.getModelWorker(ns, 'qwen2-5-7b');
      return condition(got, 'Ready')?.status === 'True' && got;
    }, 60_000);
    expect(ready.status).toMatchObject({ readyReplicas: 1, registeredWorkers: 1 });
  });

  it('reports an engine container in a crash loop as Degraded (EngineFailing)', async () => {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'fleetchat.dev/model-worker=qwen2-5-7b' });
    const pod = pods.items[0];
    const now = new Date().toISOString();
    await core.patchNamespacedPodStatus({
      namespace: ns, name: pod.metadata!.name!, body: {
        status: {
          conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }, { type: 'ContainersReady', status: 'False', lastTransitionTime: now }],
          containerStatuses: [
            { name: 'engine', image: 'vllm/vllm-openai:v0.11.0', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
            ...pod.status!.containerStatuses!.filter((c) => c.name !== 'engine'),
          ],
        },
      },
    }, mergePatch());
    const degraded = await eventually('Degraded=True', async () => {
      const got = await o.getModelWorker(ns, 'qwen2-5-7b');
      return condition(got, 'Degraded')?.status === 'True' && got;
    }, 60_000);
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'EngineFailing' });
    expect(condition(degraded, 'Degraded')?.message).toMatch(/engine container CrashLoopBackOff, last exit OOMKilled \(code 137\), 4 restarts/);
    expect(condition(degraded, 'Ready')).toMatchObject({ status: 'False', reason: 'EngineFailing' });
  });

  it('gives a hosted model\'s adapter its key from a Secret, and refuses specs the engines cannot run', async () => {
    await applyFile(o.kc, join(EXAMPLES, 'modelworker-hosted.yaml'), { namespace: ns });
    const d = await eventually('hosted Deployment', () => apps.readNamespacedDeployment({ namespace: ns, name: 'gpt-4o-mini' }));
    const containers = d.spec!.template.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual(['worker']);
    expect(containers[0].env).toEqual(expect.arrayContaining([{ name: 'FLEETCHAT_UPSTREAM_API_KEY', valueFrom: { secretKeyRef: { name: 'openai-key', key: 'key' } } }]));
    expect(parseConfig(workerOptions, containers[0].args!.slice(1))).toMatchObject({ engine: 'openai', upstream: 'https://api.openai.com/v1', upstreamModel: 'gpt-4o-mini', apiKeyEnv: 'FLEETCHAT_UPSTREAM_API_KEY', modelNames: ['gpt-4o-mini'] });
    const create = (name: string, spec: Record<string, unknown>): Promise<unknown> => custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ModelWorker', metadata: { name }, spec } });
    expect(await expectRejected(create('no-upstream', { engine: 'openai', model: { names: ['x'] } }))).toMatch(/engine openai needs upstream.url/);
    expect(await expectRejected(create('vllm-default', { engine: 'vllm', model: { source: 'default' } }))).toMatch(/engines vllm and sglang need model.source/);
    expect(await expectRejected(create('no-source', { model: { names: ['x'] } }))).toMatch(/model.source is required unless engine is openai/);
  });
});
