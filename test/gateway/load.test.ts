import { Metadata } from '@grpc/grpc-js';
import { WorkerClient } from '../../src/common/gen/worker';
import { createClient, unary } from '../../src/common/grpc/client';
import { tinyModel } from '../support/models';
import { startStack, type Stack } from '../support/stack';

/** Bounded load: 200 concurrent SSE streams on 127.0.0.1, fixed count, then no leaked slot. */
describe('200 concurrent streams', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: [{ model: await tinyModel(), names: ['tiny'], args: ['--max-concurrency', '64', '--max-queue', '256'] }] });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it('completes every stream and leaves no slot behind', async () => {
    const one = async (i: number): Promise<number> => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: `stream ${i}` }], max_tokens: 16, stream: true, ignore_eos: true, stream_options: { include_usage: true } }),
      });
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
      const text = await res.text();
      if (!text.trimEnd().endsWith('data: [DONE]')) throw new Error('stream did not end with [DONE]');
      const usage = text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)) as { usage?: { completion_tokens: number } | null }).find((c) => c.usage)?.usage;
      return usage?.completion_tokens ?? -1;
    };
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => one(i)));
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toEqual([]);
    expect(results.map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual(new Array(200).fill(16));
    const client = createClient(WorkerClient, stack.workers[0].address);
    const status = await unary(client.getStatus.bind(client), {}, new Metadata(), 2000);
    client.close();
    expect(status.running).toBe(0);
    expect(status.queueLength).toBe(0);
  }, 120_000);
});
