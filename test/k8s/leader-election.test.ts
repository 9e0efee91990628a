import { CoordinationV1Api, CustomObjectsApi, V1MicroTime } from '@kubernetes/client-node';
import { silentLogger } from '../../src/common/log';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import { startLeaderElection } from '../../src/operator/runtime/lease';
import { spawnCli } from '../support/cli';
import { startStallingProxy } from './support/stalling-proxy';
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
  // Issue 18 (leadership): a renewal that hangs must not keep a replica leading past its renew deadline.
  it('a leader whose Lease renewals hang exits 1 before another replica can take the Lease: never two leaders', async () => {
    const ns = await o.newNamespace('hung-renew');
    const proxy = await startStallingProxy(o.env, 'hung-renew');
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/hung-lock`;
    // The leader reaches the API server through the proxy; lease 3 s, renew deadline 2 s, retry 250 ms.
    const child = spawnCli(['operator', '--kubeconfig', proxy.kubeconfigPath, ...o.operatorArgs(ns, ['--identity', 'stalled-leader', '--leader-election-id', 'hung-lock'])]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let exitedAt = 0;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
      exitedAt = Date.now();
      resolve(code);
    }));
    const api = o.kc.makeApiClient(CoordinationV1Api);
    let standbyLedAt = 0;
    let standby: ReturnType<typeof startLeaderElection> | undefined;
    try {
      await eventually('the proxied operator holds the Lease', async () => (await api.readNamespacedLease({ namespace: ns, name: 'hung-lock' }).catch(() => undefined))?.spec?.holderIdentity === 'stalled-leader', 60_000)
        .catch((err: Error) => Promise.reject(new Error(`${err.message}\n${stderr.slice(-3000)}`)));
      standby = startLeaderElection({
        api, namespace: ns, name: 'hung-lock', identity: 'standby', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 250, logger: silentLogger(),
        onStartedLeading: () => (standbyLedAt = Date.now()),
        onStoppedLeading: () => undefined,
      });
      await sleep(1000);
      expect(standby.isLeader()).toBe(false);
      // From now on the leader's Lease writes hang: no answer, no error, no reset.
      const stalledAt = Date.now();
      proxy.stall((req) => req.method === 'PUT' && (req.url ?? '').startsWith(leasePath));
      const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
      expect(code).toBe(1);
      expect(proxy.held()).toBeGreaterThanOrEqual(1);
      // It gave up within its renew deadline (2 s from its last renewal, which began before the stall) ...
      expect(exitedAt - stalledAt).toBeLessThan(2000 + 1500);
      expect(stderr).toMatch(/lost leadership/);
      // ... and before the standby could take the Lease (3 s after it last saw it renewed).
      await eventually('the standby takes over', async () => standby?.isLeader(), 15_000);
      expect(standbyLedAt).toBeGreaterThan(exitedAt);
      expect((await api.readNamespacedLease({ namespace: ns, name: 'hung-lock' })).spec?.holderIdentity).toBe('standby');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await standby?.stop();
      await proxy.close();
    }
  }, 90_000);
});
