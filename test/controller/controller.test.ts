import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { ControllerClient, DispatchMethod, WorkerEventType, WorkerInfo, type WorkerEvent } from '../../src/common/gen/controller';
import { ModelKind } from '../../src/common/gen/worker';
import { createClient, unary } from '../../src/common/grpc/client';
import { silentLogger } from '../../src/common/log';
import { parseConfig } from '../../src/common/config';
import { controllerOptions, startController, type RunningController } from '../../src/controller/main';
import { WorkerRegistry } from '../../src/controller/registry';
import { chooseWorker } from '../../src/controller/dispatch';

function worker(id: string, models: string[], status: Partial<NonNullable<WorkerInfo['status']>> = {}): WorkerInfo {
  return WorkerInfo.fromPartial({ workerId: id, address: `127.0.0.1:${1000 + id.length}`, modelNames: models, kind: ModelKind.MODEL_KIND_GENERATION, contextLength: 2048, status: { maxConcurrency: 4, speed: 10, ...status } });
}

describe('worker registry', () => {
  it('expires silent workers and tells subscribers', () => {
    let now = 0;
    const reg = new WorkerRegistry(1000, () => now);
    const events: WorkerEvent[] = [];
    reg.subscribe((e) => events.push(e));
    reg.register(worker('a', ['m']));
    reg.register(worker('b', ['m']));
    now = 800;
    expect(reg.heartbeat('a', undefined)).toBe(true);
    now = 1500;
    expect(reg.expire()).toEqual(['b']);
    expect(reg.list('m').map((e) => e.info.workerId)).toEqual(['a']);
    expect(events.map((e) => [e.type, e.worker?.workerId])).toEqual([
      [WorkerEventType.WORKER_EVENT_TYPE_ADDED, 'a'],
      [WorkerEventType.WORKER_EVENT_TYPE_ADDED, 'b'],
      [WorkerEventType.WORKER_EVENT_TYPE_UPDATED, 'a'],
      [WorkerEventType.WORKER_EVENT_TYPE_REMOVED, 'b'],
    ]);
    expect(reg.heartbeat('b', undefined)).toBe(false);
  });

  it('rejects malformed registrations', () => {
    const reg = new WorkerRegistry(1000);
    expect(() => reg.register(worker('', ['m']))).toThrow(/worker_id is required/);
    expect(() => reg.register({ ...worker('a', ['m']), address: 'nowhere' })).toThrow(/host:port/);
    expect(() => reg.register(worker('a', []))).toThrow(/model_names/);
  });
});

describe('dispatch', () => {
  const reg = new WorkerRegistry(60_000);
  const busy = reg.register(worker('busy', ['m'], { queueLength: 3, running: 4 }));
  const idle = reg.register(worker('idle', ['m'], { queueLength: 0, running: 1 }));
  const draining = reg.register(worker('drain', ['m'], { draining: true }));

  it('shortest_queue picks the least loaded live worker and counts its own dispatches', () => {
    expect(chooseWorker([busy, idle, draining], 'shortest_queue').info.workerId).toBe('idle');
    idle.dispatchedSinceBeat = 10;
    expect(chooseWorker([busy, idle, draining], 'shortest_queue').info.workerId).toBe('busy');
    idle.dispatchedSinceBeat = 0;
  });

  it('lottery draws in proportion to speed', () => {
    const fast = reg.register(worker('fast', ['x'], { speed: 30 }));
    const slow = reg.register(worker('slow', ['x'], { speed: 10 }));
    let seed = 1;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let fastCount = 0;
    for (let i = 0; i < 4000; i++) if (chooseWorker([fast, slow], 'lottery', random) === fast) fastCount += 1;
    expect(fastCount / 4000).toBeGreaterThan(0.7);
    expect(fastCount / 4000).toBeLessThan(0.8);
  });

  it('fails with unavailable when every candidate is draining', () => {
    expect(() => chooseWorker([draining], 'shortest_queue')).toThrow(/no live worker/);
  });
});

describe('controller over gRPC', () => {
  let controller: RunningController;
  let client: ControllerClient;

  beforeAll(async () => {
    const config = parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-expiry', '400ms', '--heartbeat-interval', '100ms']);
    controller = await startController(config, silentLogger());
    client = createClient(ControllerClient, controller.address);
  });

  afterAll(async () => {
    client.close();
    await controller.stop(500);
  });

  const md = (): Metadata => new Metadata();

  it('registers, lists, dispatches and forgets workers', async () => {
    const reg = await unary(client.registerWorker.bind(client), { worker: worker('w1', ['alpha', 'a']) }, md(), 2000);
    expect(reg.heartbeatIntervalMs).toBe(100);
    await unary(client.registerWorker.bind(client), { worker: worker('w22', ['alpha']) }, md(), 2000);
    const models = await unary(client.listModels.bind(client), {}, md(), 2000);
    expect(models.models.map((m) => [m.name, m.workerCount])).toEqual([['a', 1], ['alpha', 2]]);
    const pick = await unary(client.getWorkerAddress.bind(client), { model: 'alpha', method: DispatchMethod.DISPATCH_METHOD_SHORTEST_QUEUE, excludeWorkerIds: ['w1'], prefixKeys: [], affinityKey: '' }, md(), 2000);
    expect(pick.workerId).toBe('w22');
    await expect(unary(client.getWorkerAddress.bind(client), { model: 'nope', method: 0, excludeWorkerIds: [], prefixKeys: [], affinityKey: '' }, md(), 2000)).rejects.toMatchObject({ kind: 'not_found', message: expect.stringMatching(/available: a, alpha/) });
    expect((await unary(client.deregisterWorker.bind(client), { workerId: 'w22' }, md(), 2000)).removed).toBe(true);
    const workers = await unary(client.listWorkers.bind(client), { model: 'alpha' }, md(), 2000);
    expect(workers.workers.map((w) => w.workerId)).toEqual(['w1']);
  });

  it('expires a silent worker, then answers its heartbeat with known=false', async () => {
    await unary(client.registerWorker.bind(client), { worker: worker('silent', ['beta']) }, md(), 2000);
    await new Promise((r) => setTimeout(r, 800));
    const models = await unary(client.listModels.bind(client), {}, md(), 2000);
    expect(models.models.find((m) => m.name === 'beta')).toBeUndefined();
    const hb = await unary(client.heartbeat.bind(client), { workerId: 'silent', status: undefined }, md(), 2000);
    expect(hb.known).toBe(false);
  });

  it('streams the live view to watchers', async () => {
    const events: WorkerEvent[] = [];
    const stream: ClientReadableStream<WorkerEvent> = client.watchWorkers({});
    stream.on('data', (e: WorkerEvent) => events.push(e));
    stream.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    await unary(client.registerWorker.bind(client), { worker: worker('watched', ['gamma']) }, md(), 2000);
    await unary(client.deregisterWorker.bind(client), { workerId: 'watched' }, md(), 2000);
    await new Promise((r) => setTimeout(r, 100));
    stream.cancel();
    const mine = events.filter((e) => e.worker?.workerId === 'watched').map((e) => e.type);
    expect(mine).toEqual([WorkerEventType.WORKER_EVENT_TYPE_ADDED, WorkerEventType.WORKER_EVENT_TYPE_REMOVED]);
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${controller.ops.url}/metrics`);
    expect(await res.text()).toMatch(/fleetchat_controller_workers \d+/);
  });
});
