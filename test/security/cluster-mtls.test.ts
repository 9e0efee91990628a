/**
 * Hostile tests of the internal gRPC plane (issue 18): real certificates generated here, real gRPC servers.
 * A process without a cluster certificate cannot register, list or generate; a worker certificate for identity A
 * cannot take over B's worker id; every refusal is counted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ControllerClient, WorkerInfo } from '../../src/common/gen/controller';
import { GenerateRequest, ModelKind, WorkerClient } from '../../src/common/gen/worker';
import { parseConfig } from '../../src/common/config';
import { createClient, deadlineIn, unary } from '../../src/common/grpc/client';
import { loadClusterSecurity, tlsChannelCredentials, PLAINTEXT, type ClientSecurity } from '../../src/common/grpc/credentials';
import { identityUri } from '../../src/common/grpc/identity';
import { silentLogger } from '../../src/common/log';
import { controllerOptions, startController, type RunningController } from '../../src/controller/main';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import { startWorker, workerOptions, type RunningWorker } from '../../src/worker/main';
import { TestCa, tlsArgs, type CertFiles } from '../support/cluster-certs';
import { tinyModel } from '../support/models';
import { waitFor } from '../support/stack';

jest.setTimeout(60_000);

const ca = new TestCa();
const rogueCa = new TestCa('rogue CA');
const certs = {
  controller: ca.issue('controller', [identityUri('controller')]),
  gateway: ca.issue('gateway', [identityUri('gateway')]),
  workerA: ca.issue('worker-a', [identityUri('worker', 'ns', 'a')]),
  workerB: ca.issue('worker-b', [identityUri('worker', 'ns', 'b')]),
  workerPod: ca.issue('worker-pod', [identityUri('worker', 'ns', 'a-77c9-qrstu')]),
  workerAnon: ca.issue('worker-anon', [identityUri('worker')]),
  rogue: rogueCa.issue('rogue', [identityUri('gateway')]),
};

afterAll(() => {
  ca.remove();
  rogueCa.remove();
});

function mtls(files: CertFiles): ClientSecurity {
  return loadClusterSecurity({ tlsCert: files.cert, tlsKey: files.key, tlsCa: files.ca, clusterTokenFile: '' }).client('controller');
}

function info(workerId: string, address = '127.0.0.1:7001', labels: Record<string, string> = {}): WorkerInfo {
  return WorkerInfo.fromPartial({ workerId, address, modelNames: ['m'], kind: ModelKind.MODEL_KIND_GENERATION, contextLength: 512, labels, status: { maxConcurrency: 1 } });
}

const md = (): Metadata => new Metadata();

async function metricsText(controller: RunningController): Promise<string> {
  return (await fetch(`${controller.ops.url}/metrics`)).text();
}

describe('controller with mTLS', () => {
  let controller: RunningController;
  const clients: ControllerClient[] = [];
  const client = (security: ClientSecurity): ControllerClient => {
    const c = createClient(ControllerClient, controller.address, { 'grpc.max_reconnect_backoff_ms': 200 }, security);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', ...tlsArgs(certs.controller)]), silentLogger());
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await controller.stop(500);
  });

  it('answers nothing to a process without a cluster certificate', async () => {
    const plaintext = client(PLAINTEXT.client());
    const serverTlsOnly = client({ credentials: tlsChannelCredentials({ ca: ca.caFile }, 'controller'), options: {} });
    const foreign = client(mtls(certs.rogue));
    for (const c of [plaintext, serverTlsOnly, foreign]) {
      await expect(unary(c.listWorkers.bind(c), { model: '' }, md(), 1500)).rejects.toMatchObject({ kind: expect.stringMatching(/unavailable|deadline_exceeded|unauthenticated/) });
      await expect(unary(c.registerWorker.bind(c), { worker: info('rogue') }, md(), 1500)).rejects.toMatchObject({ kind: expect.stringMatching(/unavailable|deadline_exceeded|unauthenticated/) });
    }
    expect(controller.registry.size).toBe(0);
  });

  it('lets each role call only its own methods', async () => {
    const gateway = client(mtls(certs.gateway));
    const worker = client(mtls(certs.workerA));
    expect((await unary(gateway.listWorkers.bind(gateway), { model: '' }, md(), 3000)).workers).toEqual([]);
    await expect(unary(gateway.registerWorker.bind(gateway), { worker: info('ns.a-x-abcde') }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied' });
    await expect(unary(worker.listWorkers.bind(worker), { model: '' }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied' });
  });

  it('binds worker ids to the identity in the certificate', async () => {
    const a = client(mtls(certs.workerA));
    const b = client(mtls(certs.workerB));
    const gateway = client(mtls(certs.gateway));
    await unary(a.registerWorker.bind(a), { worker: info('ns.a-5d8f-abcde', '127.0.0.1:7001', { 'fleetchat.dev/model-worker': 'ns/a' }) }, md(), 3000);
    // B names A's worker id, A's label, or an address that is not its own: all refused.
    await expect(unary(b.registerWorker.bind(b), { worker: info('ns.a-5d8f-abcde', '127.0.0.1:6666') }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied', message: expect.stringMatching(/may register only worker ids ns\.b/) });
    await expect(unary(b.registerWorker.bind(b), { worker: info('ns.b-x-abcde-zz', '127.0.0.1:6666') }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied' });
    await expect(unary(b.registerWorker.bind(b), { worker: info('ns.b-1-aaaaa', '127.0.0.1:7002', { 'fleetchat.dev/model-worker': 'ns/a' }) }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied' });
    await expect(unary(b.registerWorker.bind(b), { worker: info('ns.b-1-aaaaa', '10.9.9.9:7002') }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied', message: expect.stringMatching(/not the caller's own address/) });
    // B can neither beat for A nor remove it.
    await expect(unary(b.heartbeat.bind(b), { workerId: 'ns.a-5d8f-abcde', status: undefined }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied' });
    await expect(unary(b.deregisterWorker.bind(b), { workerId: 'ns.a-5d8f-abcde' }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied' });
    const listed = await unary(gateway.listWorkers.bind(gateway), { model: 'm' }, md(), 3000);
    expect(listed.workers.map((w) => [w.workerId, w.address])).toEqual([['ns.a-5d8f-abcde', '127.0.0.1:7001']]);
  });

  it('refuses a takeover between identities that may both name a worker id', async () => {
    // A pod certificate (ns/a-77c9-qrstu) and its ModelWorker's certificate (ns/a) may both claim ns.a-77c9-qrstu:
    // the first to register owns it.
    const pod = client(mtls(certs.workerPod));
    const a = client(mtls(certs.workerA));
    await unary(pod.registerWorker.bind(pod), { worker: info('ns.a-77c9-qrstu', '127.0.0.1:7101') }, md(), 3000);
    await expect(unary(a.registerWorker.bind(a), { worker: info('ns.a-77c9-qrstu', '127.0.0.1:7999') }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied', message: expect.stringMatching(/belongs to another identity/) });
    expect(controller.registry.get('ns.a-77c9-qrstu')?.info.address).toBe('127.0.0.1:7101');
    // The owner itself may register again (restart) and remove its entry.
    await unary(pod.registerWorker.bind(pod), { worker: info('ns.a-77c9-qrstu', '127.0.0.1:7102') }, md(), 3000);
    expect((await unary(pod.deregisterWorker.bind(pod), { workerId: 'ns.a-77c9-qrstu' }, md(), 3000)).removed).toBe(true);
  });

  it('refuses a worker certificate that names no ModelWorker', async () => {
    const anon = client(mtls(certs.workerAnon));
    await expect(unary(anon.registerWorker.bind(anon), { worker: info('laptop-1') }, md(), 3000)).rejects.toMatchObject({ kind: 'permission_denied', message: expect.stringMatching(/must name the ModelWorker/) });
  });

  it('logs and counts refusals', async () => {
    const text = await metricsText(controller);
    // (A caller without a certificate is refused in the TLS handshake, before any gRPC call exists to count.)
    for (const reason of ['forbidden', 'identity_mismatch', 'address_mismatch', 'takeover', 'not_owner']) {
      expect(text).toMatch(new RegExp(`fleetchat_controller_refusals_total\\{reason="${reason}"\\} [1-9]`));
    }
  });
});

describe('a whole stack with mTLS', () => {
  let controller: RunningController;
  let worker: RunningWorker;
  let gateway: RunningGateway;

  beforeAll(async () => {
    const model = await tinyModel();
    controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', ...tlsArgs(certs.controller)]), silentLogger());
    worker = await startWorker(
      parseConfig(workerOptions, ['--model', model, '--model-names', 'tiny', '--controller', controller.address, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--worker-id', 'ns.a-5d8f-fghij', ...tlsArgs(certs.workerA)]),
      silentLogger(),
    );
    await worker.registration?.registered;
    gateway = await startGateway(parseConfig(gatewayOptions, ['--controller', controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:', ...tlsArgs(certs.gateway)]), silentLogger());
    await waitFor(() => gateway.ctx.view.models().length > 0, 5000);
  });

  afterAll(async () => {
    await gateway?.stop();
    await worker?.stop();
    await controller?.stop(500);
  });

  it('serves a chat completion through the gateway', async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(1);
  });

  it('refuses Generate from a process without a gateway certificate', async () => {
    const generate = (security: ClientSecurity): Promise<ServiceError> => {
      const c = createClient(WorkerClient, worker.address, {}, security);
      return new Promise<ServiceError>((resolve, reject) => {
        const call = c.generate(GenerateRequest.fromPartial({ model: 'tiny', prompt: 'hi', params: { maxTokens: 2 } }), { deadline: deadlineIn(3000) });
        call.on('data', () => reject(new Error('a rogue caller got tokens')));
        call.on('error', (e: ServiceError) => resolve(e));
        call.on('end', () => reject(new Error('a rogue caller got an answer')));
      }).finally(() => c.close());
    };
    expect((await generate(PLAINTEXT.client())).code).toBeGreaterThan(0);
    const asWorker = loadClusterSecurity({ tlsCert: certs.workerB.cert, tlsKey: certs.workerB.key, tlsCa: certs.workerB.ca, clusterTokenFile: '' }).client('worker');
    expect((await generate(asWorker)).details).toMatch(/may not call \/fleetchat\.v1\.Worker\/Generate/);
  });
});

describe('controller with a shared token (TLS off)', () => {
  let controller: RunningController;
  let tokenFile: string;

  beforeAll(async () => {
    tokenFile = join(ca.dir, 'token');
    writeFileSync(tokenFile, 'a-cluster-token-of-some-length\n');
    controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--cluster-token-file', tokenFile, '--max-workers', '2']), silentLogger());
  });

  afterAll(() => controller.stop(500));

  it('refuses calls without the token and caps the registry', async () => {
    const rogue = createClient(ControllerClient, controller.address);
    await expect(unary(rogue.registerWorker.bind(rogue), { worker: info('w0') }, md(), 3000)).rejects.toMatchObject({ kind: 'unauthenticated' });
    writeFileSync(join(ca.dir, 'wrong'), 'another-token-of-some-length');
    const wrong = createClient(ControllerClient, controller.address, {}, loadClusterSecurity({ tlsCert: '', tlsKey: '', tlsCa: '', clusterTokenFile: join(ca.dir, 'wrong') }).client());
    await expect(unary(wrong.listWorkers.bind(wrong), { model: '' }, md(), 3000)).rejects.toMatchObject({ kind: 'unauthenticated' });
    const member = createClient(ControllerClient, controller.address, {}, loadClusterSecurity({ tlsCert: '', tlsKey: '', tlsCa: '', clusterTokenFile: tokenFile }).client());
    await unary(member.registerWorker.bind(member), { worker: info('w1') }, md(), 3000);
    await unary(member.registerWorker.bind(member), { worker: info('w2') }, md(), 3000);
    await expect(unary(member.registerWorker.bind(member), { worker: info('w3') }, md(), 3000)).rejects.toMatchObject({ kind: 'overloaded', message: expect.stringMatching(/--max-workers/) });
    expect((await unary(member.listWorkers.bind(member), { model: '' }, md(), 3000)).workers).toHaveLength(2);
    expect(await metricsText(controller)).toMatch(/fleetchat_controller_refusals_total\{reason="registry_full"\} 1/);
    for (const c of [rogue, wrong, member]) c.close();
  });
});
