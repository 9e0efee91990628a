import { WorkQueue } from '../../../src/operator/runtime/workqueue';
import { workerIdPattern, workersOf } from '../../../src/operator/modelworker/workers';
import { WorkerInfo } from '../../../src/common/gen/controller';

describe('work queue', () => {
  it('hands a key out once however often it was added', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    q.shutdown();
  });

  it('never hands out a key being processed; a re-add while processing comes back after done', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    q.add('k');
    const key = await q.get();
    q.add('k');
    expect(q.length).toBe(0);
    let next: string | undefined;
    void q.get().then((k) => (next = k));
    await new Promise((r) => setTimeout(r, 20));
    expect(next).toBeUndefined();
    q.done(key!);
    await new Promise((r) => setImmediate(r));
    expect(next).toBe('k');
    q.shutdown();
  });

  it('backs off exponentially per key and resets on forget', () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k')]).toEqual([100, 200, 400, 800, 1000]);
    expect(q.addRateLimited('other')).toBe(100);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(100);
    q.shutdown();
  });

  it('delivers a delayed add after its delay, keeping the earliest deadline', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    const t0 = Date.now();
    q.addAfter('k', 500);
    q.addAfter('k', 50);
    expect(await q.get()).toBe('k');
    expect(Date.now() - t0).toBeLessThan(400);
    q.shutdown();
  });

  it('releases waiting consumers on shutdown', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
  });
});

describe('workers of a ModelWorker', () => {
  const w = (workerId: string, labels: Record<string, string> = {}): WorkerInfo => WorkerInfo.fromPartial({ workerId, labels });

  it('matches the pods of its own Deployment only', () => {
    const all = [w('ml.a-5d8f9c7b6-x2k9p'), w('ml.a-b-5d8f9c7b6-x2k9p'), w('other.a-5d8f9c7b6-x2k9p'), w('ml.a-1'), w('host-1', { 'fleetchat.dev/model-worker': 'ml/a' })];
    expect(workersOf(all, 'ml', 'a').map((x) => x.workerId)).toEqual(['ml.a-5d8f9c7b6-x2k9p', 'host-1']);
    expect(workersOf(all, 'ml', 'a-b').map((x) => x.workerId)).toEqual(['ml.a-b-5d8f9c7b6-x2k9p']);
    expect(workerIdPattern('ml', 'a.b').test('ml.aXb-5d8f9c7b6-x2k9p')).toBe(false);
  });
});
