import { BatchV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../../src/common/config';
import { validJobSpec } from '../../src/jobs/submit/job-spec';
import { SUBMIT_OPTIONS } from '../../src/jobs/submit/options';
import { followJob, submitJob } from '../../src/jobs/submit/submit';
import { runCli } from '../support/cli';
import { k8sDescribe, startEnvtest, type Envtest } from './envtest';
import { startFakeKubelet, type FakeKubelet } from './support/fake-kubelet';
import { createNamespace, eventually } from './support/kube';

const KNOWN = ['get-stats', 'clean-sharegpt', 'gen-judgment'];

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('fleetchat jobs submit on a real API server', () => {
  let env: Envtest;
  let kubelet: FakeKubelet;
  let ns: string;
  beforeAll(async () => {
    env = await startEnvtest({ controllers: true });
    kubelet = await startFakeKubelet({ kc: env.kubeConfig, nodeName: 'node-1' });
    ns = await createNamespace(env.kubeConfig, 'jobs');
  }, 120_000);
  afterAll(async () => {
    await kubelet?.stop();
    await env?.stop();
  });

  const spec = (args: string[], command: string[]) => validJobSpec(parseConfig(SUBMIT_OPTIONS, ['--namespace', ns, '--image', 'registry.example/fleetchat:test', ...args]), command, KNOWN, 'default');

  /**
   * Plays the container: waits until the Job's pod runs (and, when `seen` is given, until the follower has reported
   * it running — a real container lives longer than one poll), then ends it with `exitCode`.
   */
  async function finishWhenRunning(job: string, exitCode: number, seen?: () => boolean): Promise<void> {
    const core = env.kubeConfig.makeApiClient(CoreV1Api);
    const pod: V1Pod = await eventually(`pod of ${job} running`, async () => {
      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${job}` });
      return pods.items.find((p) => p.status?.phase === 'Running' && (seen?.() ?? true));
    });
    await kubelet.finishPod(ns, pod.metadata!.name!, exitCode);
  }

  it('creates the Job as rendered and follows it to success, streaming pod states', async () => {
    const s = spec(['--name', 'stats-ok', '--secret-env', 'OPENAI_API_KEY=openai:key', '--env', 'FLEETCHAT_LOG_LEVEL=debug', '--cpu', '500m', '--memory', '1Gi'], ['get-stats', '--in', '/data/in.json']);
    const lines: string[] = [];
    const finishing = finishWhenRunning('stats-ok', 0, () => lines.some((l) => l.endsWith(' Running')));
    const outcome = await submitJob(env.kubeConfig, s, { onStatus: (l) => lines.push(l), timeoutMs: 60_000, pollMs: 100 });
    await finishing;
    expect(outcome).toMatchObject({ phase: 'succeeded', name: 'stats-ok', namespace: ns });
    expect(lines[0]).toBe(`job/stats-ok created in namespace ${ns} (fleetchat jobs get-stats --in /data/in.json)`);
    expect(lines.some((l) => /^job\/stats-ok: pod stats-ok-[a-z0-9]+ Running$/.test(l))).toBe(true);
    expect(lines.some((l) => /^job\/stats-ok: pod stats-ok-[a-z0-9]+ Succeeded \(exit code 0\)$/.test(l))).toBe(true);
    const job = await env.kubeConfig.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: ns, name: 'stats-ok' });
    const c = job.spec!.template.spec!.containers[0];
    expect(c.args).toEqual(['jobs', 'get-stats', '--in', '/data/in.json']);
    expect(c.env).toEqual([{ name: 'FLEETCHAT_LOG_LEVEL', value: 'debug' }, { name: 'OPENAI_API_KEY', valueFrom: { secretKeyRef: { name: 'openai', key: 'key' } } }]);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } });
    expect(job.spec!.template.spec!.restartPolicy).toBe('Never');
  });

  it('reports a failed Job with its reason and the container exit code', async () => {
    const s = spec(['--name', 'stats-fail', '--backoff-limit', '0'], ['get-stats', '--in', '/missing.json']);
    const finishing = finishWhenRunning('stats-fail', 3);
    const outcome = await submitJob(env.kubeConfig, s, { onStatus: () => undefined, timeoutMs: 60_000, pollMs: 100 });
    await finishing;
    expect(outcome).toMatchObject({ phase: 'failed', exitCode: 3, reason: expect.stringMatching(/^BackoffLimitExceeded/) });
  });

  it('shows why a pod waits (a PVC that does not exist) and stops following at the timeout', async () => {
    const s = spec(['--name', 'needs-pvc', '--volume', 'no-such-claim:/data:ro'], ['clean-sharegpt', '--in', '/data/a.json', '--out', '/tmp/b.json']);
    const lines: string[] = [];
    const outcome = await submitJob(env.kubeConfig, s, { onStatus: (l) => lines.push(l), timeoutMs: 3000, pollMs: 100 });
    expect(outcome?.phase).toBe('timeout');
    expect(lines.join('\n')).toMatch(/job\/needs-pvc: pod needs-pvc-[a-z0-9]+ Pending \(Unschedulable: .*persistentvolumeclaim "no-such-claim" not found/);
    const job = await env.kubeConfig.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: ns, name: 'needs-pvc' });
    expect(job.spec!.template.spec!.volumes).toEqual([{ name: 'volume-0', persistentVolumeClaim: { claimName: 'no-such-claim', readOnly: true } }]);
  });

  it('runs from the CLI: submits, follows, and exits 0 on success', async () => {
    const finishing = finishWhenRunning('cli-stats', 0);
    const result = await runCli(['jobs', 'submit', '--kubeconfig', env.kubeconfigPath, '--namespace', ns, '--name', 'cli-stats', '--image', 'img:1', '--', 'get-stats', '--in', '/d.json'], { timeoutMs: 90_000 });
    await finishing;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^job\/cli-stats created in namespace jobs \(fleetchat jobs get-stats --in \/d.json\)$/m);
    expect(result.stdout).toMatch(/^job\/cli-stats succeeded after \d+ s$/m);
  });

  it('refuses a second Job of the same name with a clear message', async () => {
    const again = spec(['--name', 'stats-ok'], ['get-stats']);
    await expect(submitJob(env.kubeConfig, again, undefined)).rejects.toThrow('a Job named stats-ok already exists');
    await expect(followJob(env.kubeConfig, ns, 'stats-ok', { onStatus: () => undefined, timeoutMs: 5000 })).resolves.toMatchObject({ phase: 'succeeded' });
  });
});
