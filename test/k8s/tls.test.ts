/**
 * mTLS as the chart sets it up (tls.enabled, no cert-manager), end to end: the chart installed into the real API
 * server, the operator running with the chart's configuration as the chart's ServiceAccount creates the cluster CA
 * and issues the controller's, the gateway's and each ModelWorker's certificate into Secrets (URI SANs
 * spiffe://fleetchat/<role>, .../worker/<ns>/<ModelWorker>); then the real controller, worker and gateway run as
 * processes with those files, a chat completion goes through, the operator (with the certificate it issued itself)
 * sees the worker, and processes without a certificate are refused.
 */
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ControllerClient } from '../../src/common/gen/controller';
import { createClient, unary } from '../../src/common/grpc/client';
import { PLAINTEXT, loadClusterSecurity, tlsChannelCredentials, type ClientSecurity } from '../../src/common/grpc/credentials';
import { parseConfig } from '../../src/common/config';
import { Metadata } from '@grpc/grpc-js';
import { silentLogger } from '../../src/common/log';
import { GROUP, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker } from '../../src/operator/api/v1alpha1/types';
import { operatorOptions, startOperator, type RunningOperator } from '../../src/operator/main';
import { createCa, issueIdentity } from '../../src/operator/tls/certificates';
import { spawnCli, waitForOutput } from '../support/cli';
import { freePort, k8sDescribe, startEnvtest, type Envtest } from './envtest';
import { helmRunner, type HelmResult } from './support/helm';
import { applyFile, eventually, waitEstablished } from './support/kube';
import { serviceAccountKubeConfig } from './support/service-account';

const CHART = join(__dirname, '../../charts/fleetchat');
const EXAMPLES = join(__dirname, '../../examples');
const NS = 'fleetchat-tls';
const FULLNAME = 'tls-fleetchat';
const POD_WORKER_ID = `${NS}.tiny-7c9d8f-abcde`;

function ok(result: HelmResult): string {
  if (result.code !== 0) throw new Error(`helm failed (${result.code}):\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  return result.stdout;
}

interface Files {
  cert: string;
  key: string;
  ca: string;
}

k8sDescribe(['helm'])('TLS issued by the chart\'s operator, accepted by the real processes', () => {
  let env: Envtest;
  let kc: KubeConfig;
  let operator: RunningOperator | undefined;
  let controllerPort: number;
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-tls-test-'));
  const clients: ControllerClient[] = [];

  beforeAll(async () => {
    env = await startEnvtest();
    kc = env.kubeConfig;
    const helm = helmRunner(env.binaries.helm!, env.kubeconfigPath);
    ok(await helm(['install', 'tls', CHART, '--namespace', NS, '--create-namespace', '--set', 'image.tag=test', '--set', 'tls.enabled=true', '--wait=false']));
    await waitEstablished(kc, 'modelworkers.fleetchat.dev');
    controllerPort = await freePort();
    // The operator as the chart deploys it: its ConfigMap as environment, its ServiceAccount's token (a Role in the
    // release namespace). Only what needs a pod network is replaced: the controller address and the metrics port.
    const core = kc.makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ namespace: NS, name: `${FULLNAME}-operator` });
    expect(cm.data).toMatchObject({ FLEETCHAT_WORKER_TLS: 'issue', FLEETCHAT_TLS_CA_SECRET: `${NS}/${FULLNAME}-ca`, FLEETCHAT_TLS_ROLE_SECRETS: `controller=${NS}/${FULLNAME}-controller-tls,gateway=${NS}/${FULLNAME}-gateway-tls` });
    const config = parseConfig(operatorOptions, [], { ...cm.data, FLEETCHAT_IDENTITY: 'tls-operator-0', FLEETCHAT_CONTROLLER: `127.0.0.1:${controllerPort}`, FLEETCHAT_METRICS_LISTEN: '127.0.0.1:0', FLEETCHAT_POLL_INTERVAL: '300ms', FLEETCHAT_LEADER_ELECT: 'false' });
    const saKc = await serviceAccountKubeConfig(kc, env.server, env.caFile, NS, `${FULLNAME}-operator`);
    operator = await startOperator(config, silentLogger(), { kubeConfig: saKc });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())))));
    await operator?.stop();
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function secretFiles(name: string): Promise<Files & { x509: X509Certificate; caX509: X509Certificate }> {
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: NS, name });
    const text = (k: string): string => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), ca: join(dir, `${name}.ca`) };
    writeFileSync(files.cert, text('tls.crt'));
    writeFileSync(files.key, text('tls.key'), { mode: 0o600 });
    writeFileSync(files.ca, text('ca.crt'));
    expect(secret.type).toBe('kubernetes.io/tls');
    return { ...files, x509: new X509Certificate(text('tls.crt')), caX509: new X509Certificate(text('ca.crt')) };
  }

  const tlsArgs = (f: Files): string[] => ['--tls-cert', f.cert, '--tls-key', f.key, '--tls-ca', f.ca];

  it('issues the CA, the controller\'s and gateway\'s certificates, and one per ModelWorker that its pods mount', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const ca = await secretFiles(`${FULLNAME}-ca`);
    expect(ca.x509.ca).toBe(true);
    for (const role of ['controller', 'gateway']) {
      const f = await secretFiles(`${FULLNAME}-${role}-tls`);
      expect(f.x509.subjectAltName).toBe(`URI:spiffe://fleetchat/${role}`);
      expect(f.x509.checkIssued(ca.x509) && f.x509.verify(ca.x509.publicKey)).toBe(true);
    }
    await applyFile(kc, join(EXAMPLES, 'modelworker-tiny.yaml'), { namespace: NS });
    const secret = await eventually('the ModelWorker\'s certificate', () => core.readNamespacedSecret({ namespace: NS, name: 'tiny-fleetchat-tls' }), 30_000, 200);
    expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ModelWorker', name: 'tiny', controller: true });
    const worker = await secretFiles('tiny-fleetchat-tls');
    expect(worker.x509.subjectAltName).toBe(`URI:spiffe://fleetchat/worker/${NS}/tiny`);
    expect(worker.x509.checkIssued(ca.x509)).toBe(true);
    const deployment = await eventually('the worker Deployment', () => kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: NS, name: 'tiny' }), 30_000, 200);
    const pod = deployment.spec!.template.spec!;
    expect(pod.volumes).toContainEqual({ name: 'cluster-tls', secret: { secretName: 'tiny-fleetchat-tls', defaultMode: 0o440 } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'cluster-tls', mountPath: '/etc/fleetchat/tls', readOnly: true });
    expect(pod.containers[0].env).toEqual(expect.arrayContaining([{ name: 'FLEETCHAT_TLS_CERT', value: '/etc/fleetchat/tls/tls.crt' }, { name: 'FLEETCHAT_TLS_CA', value: '/etc/fleetchat/tls/ca.crt' }]));
    // A Secret of that name that fleetchat did not issue is never overwritten: the ModelWorker reports it.
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'squat-fleetchat-tls' }, stringData: { note: 'not a certificate' } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ModelWorker', metadata: { name: 'squat' }, spec: { model: { source: 'default' } } } });
    const squat = await eventually('the refusal in the status', async () => {
      const got = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'squat' })) as ModelWorker;
      return got.status?.conditions?.find((c) => c.type === 'Degraded' && c.reason === 'ApplyFailed');
    }, 30_000, 200);
    expect(squat.message).toContain('Secret fleetchat-tls/squat-fleetchat-tls exists and was not issued by fleetchat: not replacing it');
    expect((await core.readNamespacedSecret({ namespace: NS, name: 'squat-fleetchat-tls' })).data).toEqual({ note: Buffer.from('not a certificate').toString('base64') });
    await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'squat' });

    // The controller and gateway Deployments mount their Secrets; the controller's probe is not a plaintext gRPC one.
    const apps = kc.makeApiClient(AppsV1Api);
    const ctl = (await apps.readNamespacedDeployment({ namespace: NS, name: `${FULLNAME}-controller` })).spec!.template.spec!;
    expect(ctl.volumes).toContainEqual({ name: 'cluster-tls', secret: { secretName: `${FULLNAME}-controller-tls`, defaultMode: 0o440 } });
    expect(ctl.containers[0].readinessProbe?.grpc).toBeUndefined();
    const gw = (await apps.readNamespacedDeployment({ namespace: NS, name: `${FULLNAME}-gateway` })).spec!.template.spec!;
    expect(gw.volumes).toContainEqual({ name: 'cluster-tls', secret: { secretName: `${FULLNAME}-gateway-tls`, defaultMode: 0o440 } });
  });

  it('the real controller, worker and gateway accept the issued certificates; processes without one are refused', async () => {
    const ctl = await secretFiles(`${FULLNAME}-controller-tls`);
    const gw = await secretFiles(`${FULLNAME}-gateway-tls`);
    const wk = await secretFiles('tiny-fleetchat-tls');
    const controllerAddress = `127.0.0.1:${controllerPort}`;
    const controller = spawnCli(['controller', '--listen', controllerAddress, '--metrics-listen', '127.0.0.1:0', ...tlsArgs(ctl)], { FLEETCHAT_LOG_LEVEL: 'info' });
    children.push(controller);
    const workerPort = await freePort();
    const worker = spawnCli(['worker', '--model', 'default', '--model-names', 'tiny', '--controller', controllerAddress, '--listen', `127.0.0.1:${workerPort}`,
      '--advertise-address', `127.0.0.1:${workerPort}`, '--metrics-listen', '127.0.0.1:0', '--worker-id', POD_WORKER_ID, ...tlsArgs(wk)]);
    children.push(worker);
    const gateway = spawnCli(['gateway', '--controller', controllerAddress, '--listen', '127.0.0.1:0', '--db', ':memory:', ...tlsArgs(gw)], { FLEETCHAT_LOG_LEVEL: 'info' });
    children.push(gateway);
    const url = (await waitForOutput(gateway, /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*gateway listening/, 90_000))[1];

    // Gateway -> controller -> worker over mTLS: the model appears and answers.
    await eventually('the worker registered and visible to the gateway', async () => {
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      return models.data.some((m) => m.id === 'tiny');
    }, 90_000, 500);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, temperature: 0 }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBeGreaterThan(0);

    // The operator reaches the controller with the certificate it issued itself: it counts the registered worker.
    await eventually('the operator sees the worker', async () => {
      const mw = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'tiny' })) as ModelWorker;
      return mw.status?.registeredWorkers === 1;
    }, 30_000, 300);

    // Without a certificate of this CA nothing answers: plaintext, TLS without a client certificate, a foreign CA.
    const foreignCa = createCa();
    const foreign = issueIdentity(foreignCa, 'spiffe://fleetchat/gateway', 3_600_000);
    const foreignFiles = { cert: join(dir, 'foreign.crt'), key: join(dir, 'foreign.key'), ca: ctl.ca };
    writeFileSync(foreignFiles.cert, foreign['tls.crt']);
    writeFileSync(foreignFiles.key, foreign['tls.key']);
    const client = (security: ClientSecurity): ControllerClient => {
      const c = createClient(ControllerClient, controllerAddress, { 'grpc.max_reconnect_backoff_ms': 200 }, security);
      clients.push(c);
      return c;
    };
    const refused = [
      client(PLAINTEXT.client()),
      client({ credentials: tlsChannelCredentials({ ca: ctl.ca }, 'controller'), options: {} }),
      client(loadClusterSecurity({ tlsCert: foreignFiles.cert, tlsKey: foreignFiles.key, tlsCa: foreignFiles.ca, clusterTokenFile: '' }).client('controller')),
    ];
    for (const c of refused) {
      await expect(unary(c.listWorkers.bind(c), { model: '' }, new Metadata(), 2000)).rejects.toMatchObject({ kind: expect.stringMatching(/unavailable|deadline_exceeded|unauthenticated/) });
    }
    // A worker process without a certificate cannot register (it tries, and is turned away in the handshake).
    const rogue = spawnCli(['worker', '--model', 'default', '--model-names', 'tiny', '--controller', controllerAddress, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--worker-id', `${NS}.tiny-7c9d8f-rogue`], { FLEETCHAT_LOG_LEVEL: 'info' });
    children.push(rogue);
    await waitForOutput(rogue, /registration failed/, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    const gatewayClient = client(loadClusterSecurity({ tlsCert: gw.cert, tlsKey: gw.key, tlsCa: gw.ca, clusterTokenFile: '' }).client('controller'));
    const listed = await unary(gatewayClient.listWorkers.bind(gatewayClient), { model: '' }, new Metadata(), 5000);
    expect(listed.workers.map((w) => w.workerId)).toEqual([POD_WORKER_ID]);
  });
});
