/**
 * `fleetchat jobs train --submit` on a real API server (kube-apiserver + etcd + controller-manager + scheduler, a
 * fake kubelet playing the containers):
 * - without the Kubeflow CRD: an Indexed Job of --nnodes pods + a headless Service; every pod gets the c10d
 *   rendezvous environment (PET_RDZV_ENDPOINT = NAME-0.NAME:29400) and its DNS name; followed to success, and a
 *   failing pod is reported;
 * - with the training operator's own PyTorchJob CRD (kubeflow/training-operator v1.8.1, from the Go module cache
 *   that scripts/k8s/build-training-operator.sh fills): the same command creates a kubeflow.org/v1 PyTorchJob the
 *   API server accepts against the CRD's schema; when that script also built the operator, the real operator runs
 *   next to the API server, creates the Master and Worker pods with PET_MASTER_ADDR / PET_NNODES / PET_NODE_RANK,
 *   and the job is followed to Succeeded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../../src/common/config';
import { SUBMIT_OPTIONS } from '../../src/jobs/submit/options';
import { TRAIN_OPTIONS } from '../../src/jobs/train/options';
import { runTrainSubmit, type JobKindChoice } from '../../src/jobs/train/submit/main';
import { freePort, k8sDescribe, startEnvtest, type Envtest } from './envtest';
import { startFakeKubelet, type FakeKubelet } from './support/fake-kubelet';
import { applyYaml, createNamespace, eventually, waitEstablished } from './support/kube';

const KUBEFLOW = join(process.env.FLEETCHAT_K8S_BIN_DIR ?? join(homedir(), '.cache', 'fleetchat', 'k8s-bins'), 'kubeflow');
const CRD = join(KUBEFLOW, 'kubeflow.org_pytorchjobs.yaml');
const OPERATOR = join(KUBEFLOW, 'training-operator');
/** Where training-operator v1.8.1's webhook server reads its certificate (fixed in its pkg/cert). */
const CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

const TRAIN = ['--model-name-or-path', '/data/base', '--data-path', '/data/sft.jsonl', '--output-dir', '/ckpt/run', '--bf16', '--max-steps', '100'];

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('fleetchat jobs train --submit on a real API server', () => {
  let env: Envtest;
  let kubelet: FakeKubelet;
  let ns: string;
  beforeAll(async () => {
    env = await startEnvtest({ controllers: true });
    kubelet = await startFakeKubelet({ kc: env.kubeConfig, nodeName: 'gpu-node', labels: { gpu: 'h100' }, capacity: { 'nvidia.com/gpu': '8' } });
    ns = await createNamespace(env.kubeConfig, 'train');
  }, 120_000);
  afterAll(async () => {
    await kubelet?.stop();
    await env?.stop();
  });

  function submit(name: string, kind: JobKindChoice, extra: string[] = []): { lines: string[]; done: Promise<number> } {
    const lines: string[] = [];
    const train = parseConfig(TRAIN_OPTIONS, [...TRAIN, '--nnodes', '2', '--nproc-per-node', '1']);
    const sub = parseConfig(SUBMIT_OPTIONS, ['--namespace', ns, '--name', name, '--image', 'registry.example/fleetchat-train:test', '--gpus', '1', '--node-selector', 'gpu=h100',
      '--env', 'HF_HUB_OFFLINE=1', '--timeout', '90s', ...extra]);
    return { lines, done: runTrainSubmit({ train, submit: sub, kind, out: (l) => lines.push(l), kubeConfig: env.kubeConfig }) };
  }

  async function podsOf(selector: string, count: number): Promise<V1Pod[]> {
    const core = env.kubeConfig.makeApiClient(CoreV1Api);
    return eventually(`${count} running pods (${selector})`, async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items.filter((p) => p.status?.phase === 'Running');
      return pods.length >= count ? pods : undefined;
    }, 60_000);
  }

  const envOf = (pod: V1Pod): Record<string, string> => Object.fromEntries((pod.spec!.containers[0].env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

  it('without the Kubeflow CRD: an Indexed Job + headless Service with the c10d rendezvous, followed to success', async () => {
    const run = submit('sft-indexed', 'auto');
    const pods = await podsOf('batch.kubernetes.io/job-name=sft-indexed', 2);
    for (const pod of pods) {
      expect(pod.spec!.subdomain).toBe('sft-indexed');
      expect(envOf(pod)).toMatchObject({ PET_NNODES: '2', PET_RDZV_BACKEND: 'c10d', PET_RDZV_ENDPOINT: 'sft-indexed-0.sft-indexed:29400', PET_RDZV_ID: 'sft-indexed', NCCL_NVLS_ENABLE: '0' });
      expect(pod.spec!.containers[0].args).toEqual(['jobs', 'train', ...TRAIN.slice(0, 6), '--max-steps', '100', '--bf16', 'true', '--nnodes', '2']);
      expect(pod.spec!.containers[0].resources!.limits).toEqual({ 'nvidia.com/gpu': '1' });
      expect(pod.spec!.nodeSelector).toEqual({ gpu: 'h100' });
    }
    expect(pods.map((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index']).sort()).toEqual(['0', '1']);
    const svc = await env.kubeConfig.makeApiClient(CoreV1Api).readNamespacedService({ namespace: ns, name: 'sft-indexed' });
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    for (const pod of pods) await kubelet.finishPod(ns, pod.metadata!.name!, 0);
    expect(await run.done).toBe(0);
    expect(run.lines[0]).toMatch(/^job\/sft-indexed \(Indexed, with headless service\/sft-indexed\) created in namespace train: 2 node\(s\) × 1 process\(es\)/);
    expect(run.lines[run.lines.length - 1]).toMatch(/^job\/sft-indexed \(Indexed.*\) succeeded after \d+ s$/);
    const job = await env.kubeConfig.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: ns, name: 'sft-indexed' });
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2 });
  });

  it('a failing pod fails the Indexed Job, and the failure is reported', async () => {
    const run = submit('sft-fails', 'indexed-job', ['--backoff-limit', '0']);
    const pods = await podsOf('batch.kubernetes.io/job-name=sft-fails', 2);
    await kubelet.finishPod(ns, pods[0].metadata!.name!, 2);
    expect(await run.done).toBe(1);
    expect(run.lines[run.lines.length - 1]).toMatch(/failed after \d+ s: BackoffLimitExceeded.*\(last exit code 2\)/);
  });

  const withCrd = existsSync(CRD) ? describe : describe.skip;
  if (!existsSync(CRD)) process.stderr.write(`SKIPPED PyTorchJob tests: ${CRD} missing — run scripts/k8s/build-training-operator.sh\n`);
  withCrd('with the training operator\'s PyTorchJob CRD', () => {
    let operator: ChildProcess | undefined;
    let operatorLog = '';
    beforeAll(async () => {
      await applyYaml(env.kubeConfig, readFileSync(CRD, 'utf8'), { fieldManager: 'fleetchat-test' });
      await waitEstablished(env.kubeConfig, 'pytorchjobs.kubeflow.org');
      if (!existsSync(OPERATOR)) {
        process.stderr.write(`training operator not built (${OPERATOR}): only the manifest's acceptance is checked\n`);
        return;
      }
      // What the operator's cert rotator needs to start its controllers: its namespace, the webhook Secret and
      // ValidatingWebhookConfiguration (failurePolicy Ignore: the API server cannot reach a webhook Service here).
      await createNamespace(env.kubeConfig, 'kubeflow');
      await env.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: 'kubeflow', body: { metadata: { name: 'training-operator-webhook-cert' } } });
      await env.kubeConfig.makeApiClient(AdmissionregistrationV1Api).createValidatingWebhookConfiguration({ body: {
        metadata: { name: 'validator.training-operator.kubeflow.org' },
        webhooks: [{ name: 'validate-pytorchjob.kubeflow.org', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Ignore',
          clientConfig: { service: { name: 'training-operator', namespace: 'kubeflow', path: '/validate-kubeflow-org-v1-pytorchjob' } },
          rules: [{ apiGroups: ['kubeflow.org'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pytorchjobs'] }] }],
      } });
      const webhookPort = await freePort();
      operator = spawn(OPERATOR, ['--enable-scheme=pytorchjob', '--metrics-bind-address=0', '--health-probe-bind-address=0', `--webhook-server-port=${webhookPort}`, `--kubeconfig=${env.kubeconfigPath}`],
        { env: { ...process.env, KUBECONFIG: env.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
      operator.stdout!.on('data', (d: Buffer) => (operatorLog = (operatorLog + d.toString()).slice(-20_000)));
      operator.stderr!.on('data', (d: Buffer) => (operatorLog = (operatorLog + d.toString()).slice(-20_000)));
      // Play the kubelet's secret volume: the operator's cert rotator fills the Secret, then waits for its files in
      // the webhook server's cert directory before it starts the controllers.
      const secret = await eventually('webhook certificate in the Secret', async () => {
        const s = await env.kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: 'kubeflow', name: 'training-operator-webhook-cert' });
        return s.data?.['tls.crt'] && s.data['tls.key'] ? s.data : undefined;
      }, 60_000);
      mkdirSync(CERT_DIR, { recursive: true });
      for (const [key, value] of Object.entries(secret)) writeFileSync(join(CERT_DIR, key), Buffer.from(value, 'base64'));
      await eventually('the operator\'s controllers', async () => operatorLog.includes('Certs ready'), 60_000);
    }, 120_000);
    afterAll(async () => {
      if (operator && operator.exitCode === null) {
        operator.kill('SIGTERM');
        await new Promise((resolve) => operator!.once('exit', resolve));
      }
    });

    it('creates a kubeflow.org/v1 PyTorchJob that the API server accepts (Master + Worker, nprocPerNode, the pod template of jobs submit)', async () => {
      // PVCs and Secrets as jobs submit mounts them (this job's pods are never run, so the claims need not exist)
      const run = submit('sft-pytorchjob', 'auto', ['--no-follow', '--volume', 'data:/data:ro', '--volume', 'ckpt:/ckpt', '--secret-env', 'HF_TOKEN=hf:token']);
      expect(await run.done).toBe(0);
      expect(run.lines[0]).toMatch(/^pytorchjob\/sft-pytorchjob created in namespace train: 2 node\(s\)/);
      const got = (await env.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace: ns, plural: 'pytorchjobs', name: 'sft-pytorchjob' })) as {
        spec: { nprocPerNode: string; pytorchReplicaSpecs: Record<string, { replicas: number; template: { spec: { volumes: Array<{ persistentVolumeClaim?: { claimName: string } }>; containers: Array<{ name: string; args: string[]; ports: Array<{ name: string }>; env: Array<{ name: string; valueFrom?: unknown }> }> } } }> };
      };
      expect(got.spec.nprocPerNode).toBe('1');
      expect(got.spec.pytorchReplicaSpecs.Master.replicas).toBe(1);
      expect(got.spec.pytorchReplicaSpecs.Worker.replicas).toBe(1);
      const c = got.spec.pytorchReplicaSpecs.Master.template.spec.containers[0];
      expect(c.name).toBe('pytorch');
      expect(c.ports[0].name).toBe('pytorchjob-port');
      expect(c.args.slice(0, 2)).toEqual(['jobs', 'train']);
      expect(c.env.find((e) => e.name === 'HF_TOKEN')!.valueFrom).toEqual({ secretKeyRef: { name: 'hf', key: 'token' } });
      expect(got.spec.pytorchReplicaSpecs.Worker.template.spec.volumes.map((v) => v.persistentVolumeClaim?.claimName)).toEqual(['data', 'ckpt', undefined]);
    });

    const withOperator = existsSync(OPERATOR) ? it : it.skip;
    withOperator('FSDP over 2 nodes × 4 GPUs: --gpus sets the processes per pod, the FSDP flags and NCCL settings reach every pod', async () => {
      const train = parseConfig(TRAIN_OPTIONS, [...TRAIN, '--nnodes', '2', '--fsdp', 'full_shard auto_wrap', '--fsdp-transformer-layer-cls-to-wrap', 'LlamaDecoderLayer', '--gradient-checkpointing']);
      const sub = parseConfig(SUBMIT_OPTIONS, ['--namespace', ns, '--name', 'sft-fsdp', '--image', 'registry.example/fleetchat-train:test', '--gpus', '4', '--timeout', '90s']);
      const lines: string[] = [];
      const done = runTrainSubmit({ train, submit: sub, kind: 'auto', out: (l) => lines.push(l), kubeConfig: env.kubeConfig });
      const pods = await podsOf('training.kubeflow.org/job-name=sft-fsdp', 2).catch((err: Error) => {
        throw new Error(`${err.message}\noperator log:\n${operatorLog.slice(-12000)}`);
      });
      expect(lines[0]).toMatch(/^pytorchjob\/sft-fsdp created in namespace train: 2 node\(s\) × 4 process\(es\)/);
      const job = (await env.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace: ns, plural: 'pytorchjobs', name: 'sft-fsdp' })) as { spec: { nprocPerNode: string } };
      expect(job.spec.nprocPerNode).toBe('4');
      for (const pod of pods) {
        const c = pod.spec!.containers[0];
        expect(c.resources!.limits).toEqual({ 'nvidia.com/gpu': '4' });
        expect(envOf(pod)).toMatchObject({ NCCL_NVLS_ENABLE: '0', PET_NNODES: '2', PET_NPROC_PER_NODE: '4', PET_MASTER_ADDR: 'sft-fsdp-master-0' });
        const args = c.args!.join(' ');
        for (const part of ['--fsdp full_shard auto_wrap', '--fsdp-transformer-layer-cls-to-wrap LlamaDecoderLayer', '--gradient-checkpointing true', '--nproc-per-node 4', '--bf16 true', '--nnodes 2']) expect(args).toContain(part);
        expect(c.args).toContain('full_shard auto_wrap'); // one argument, not split by a shell
      }
      for (const pod of pods) await kubelet.finishPod(ns, pod.metadata!.name!, 0);
      expect(await done).toBe(0);
    }, 120_000);
    withOperator('the real training operator creates Master and Worker pods with the rendezvous environment; the job is followed to Succeeded', async () => {
      const run = submit('sft-operator', 'pytorchjob');
      const pods = await podsOf('training.kubeflow.org/job-name=sft-operator', 2).catch((err: Error) => {
        throw new Error(`${err.message}\noperator log:\n${operatorLog.slice(-12000)}`);
      });
      const byRole = Object.fromEntries(pods.map((p) => [p.metadata!.labels!['training.kubeflow.org/replica-type'], envOf(p)]));
      expect(byRole.master).toMatchObject({ PET_MASTER_ADDR: 'sft-operator-master-0', PET_NNODES: '2', PET_NODE_RANK: '0', PET_NPROC_PER_NODE: '1' });
      expect(byRole.worker).toMatchObject({ PET_MASTER_ADDR: 'sft-operator-master-0', PET_NNODES: '2', PET_NODE_RANK: '1' });
      await eventually('the follower to see the master running', async () => run.lines.some((l) => l === 'pytorchjob/sft-operator: pod sft-operator-master-0 Running'));
      for (const pod of pods) await kubelet.finishPod(ns, pod.metadata!.name!, 0);
      expect(await run.done).toBe(0);
      expect(run.lines).toContain('pytorchjob/sft-operator: pod sft-operator-worker-0 Succeeded (exit code 0)');
      expect(run.lines[run.lines.length - 1]).toMatch(/^pytorchjob\/sft-operator succeeded after \d+ s$/);
    }, 120_000);
  });
});
