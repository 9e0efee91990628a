import { CoordinationV1Api, CustomObjectsApi, V1MicroTime } from '@kubernetes/client-node';
import { silentLogger } from '../../src/common/log';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import { startLeaderElection } from '../../src/operator/runtime/lease';
import { spawnCli } from '../support/cli';
import { k8sDescribe } from './envtest';
import { eventually, sleep } from './support/kube';
import { startOperatorEnv, type OperatorEnv } from './support/operator-env';

k8sDescribe(['kubeControllerManager', 'kubeScheduler'])('leader election on a coordination.k8s.io Lease', () => {
  let o: OperatorEnv;
  beforeAll(async () => {
    o = await startOperatorEnv();
  }, 120_000);
  afterAll(() => o?.stop());

  it('lets exactly one of two operator replicas act, and hands over when the leader stops', async () => {
    const ns = await o.newNamespace('ha');
    const a = await o.startOperator(ns, ['--identity', 'replica-a']);
    const b = await o.startOperator(ns, ['--identity', 'replica-b']);
    let both = 0;
    const sampler = setInterval(() => {
      if (a.isLeader() && b.isLeader()) both += 1;
    }, 20);
    try {
      const leader = await eventually('a leader', async () => (a.isLeader() ? a : b.isLeader() ? b : undefined));
      const follower = leader === a ? b : a;
      await sleep(1500);
      expect(follower.isLeader()).toBe(false);
      const lease = await o.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'fleetchat-operator' });
      expect(lease.spec?.holderIdentity).toBe(leader.identity);
      expect(leader.manager()).toBeDefined();
      expect(follower.manager()).toBeUndefined();
      // Both serve health and metrics; the standby is ready too (it only waits for the Lease).
      for (const [op, leading] of [[leader, 1], [follower, 0]] as const) {
        expect((await fetch(`${op.ops.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${op.ops.url}/readyz`)).status).toBe(200);
        expect(await (await fetch(`${op.ops.url}/metrics`)).text()).toMatch(new RegExp(`^fleetchat_operator_leader ${leading}$`, 'm'));
      }

      await leader.stop();
      await eventually('the follower takes over', async () => follower.isLeader(), 10_000);
      const custom = o.kc.makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'after-handover' }, spec: { model: { source: 'default' } } } });
      await eventually('the new leader reconciles', async () => (await o.getModelWorker(ns, 'after-handover')).status?.observedGeneration === 1);
      const after = await o.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'fleetchat-operator' });
      expect(after.spec?.holderIdentity).toBe(follower.identity);
      expect(after.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(sampler);
    }
    expect(both).toBe(0);
  });

  it('waits out the lease of a holder that stopped renewing before taking it', async () => {
    const ns = await o.newNamespace('stale-lease');
    const api = o.kc.makeApiClient(CoordinationV1Api);
    await api.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'lock' }, spec: { holderIdentity: 'crashed-replica', leaseDurationSeconds: 2, renewTime: new V1MicroTime(), acquireTime: new V1MicroTime() } } });
    let ledAt = 0;
    const startedAt = Date.now();
    const elector = startLeaderElection({
      api, namespace: ns, name: 'lock', identity: 'candidate', leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200, logger: silentLogger(),
      onStartedLeading: () => (ledAt = Date.now()),
      onStoppedLeading: () => undefined,
    });
    try {
      await eventually('candidate leads', async () => elector.isLeader(), 10_000);
      expect(ledAt - startedAt).toBeGreaterThanOrEqual(1800);
      const lease = await api.readNamespacedLease({ namespace: ns, name: 'lock' });
      expect(lease.spec).toMatchObject({ holderIdentity: 'candidate', leaseTransitions: 1 });
    } finally {
      await elector.stop();
    }
    expect((await api.readNamespacedLease({ namespace: ns, name: 'lock' })).spec?.holderIdentity).toBe('');
  });

  it('runs as `fleetchat operator`: takes the Lease, and on SIGTERM releases it and exits 0 at once', async () => {
    const ns = await o.newNamespace('cli');
    const child = spawnCli(['operator', '--kubeconfig', o.env.kubeconfigPath, ...o.operatorArgs(ns, ['--identity', 'cli-operator', '--leader-election-id', 'cli-lock'])]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const api = o.kc.makeApiClient(CoordinationV1Api);
    try {
      await eventually('the CLI operator holds the Lease', async () => (await api.readNamespacedLease({ namespace: ns, name: 'cli-lock' })).spec?.holderIdentity === 'cli-operator', 60_000);
    } finally {
      child.kill('SIGTERM');
    }
    const t0 = Date.now();
    expect(await exited).toBe(0);
    // Nothing left open (watches, gRPC channels, timers) keeps the process alive after the cleanups.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await api.readNamespacedLease({ namespace: ns, name: 'cli-lock' })).spec?.holderIdentity).toBe('');
    expect(stderr).not.toMatch(/"level":[56]0/);
  });
});
