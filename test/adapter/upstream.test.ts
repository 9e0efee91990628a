/**
 * The adapter's upstream client on its own, against a real HTTP server: every call ends in exactly one of end / fail,
 * whatever goes wrong on our side of it (a request Node refuses to build, a consumer that throws).
 */
import { Upstream, type UpstreamChunk, type UpstreamSink } from '../../src/worker/adapter/upstream';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';

interface Outcome {
  chunks: UpstreamChunk[];
  ended: number;
  failures: Error[];
}

function collect(onChunk: (c: UpstreamChunk) => void = () => undefined): { sink: UpstreamSink; outcome: Outcome; settled: Promise<void> } {
  const outcome: Outcome = { chunks: [], ended: 0, failures: [] };
  let done: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (done = resolve));
  const sink: UpstreamSink = {
    headers: () => undefined,
    chunk: (c) => {
      outcome.chunks.push(c);
      onChunk(c);
    },
    end: () => {
      outcome.ended += 1;
      done();
    },
    fail: (err) => {
      outcome.failures.push(err);
      done();
    },
  };
  return { sink, outcome, settled };
}

describe('adapter upstream client', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream('fake-model');
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('streams the chunks, then ends once', async () => {
    upstream.mode = { kind: 'stream', words: ['Hello', ' world'] };
    const client = new Upstream({ url: upstream.url, timeoutMs: 5000 });
    const { sink, outcome, settled } = collect();
    client.stream('chat', { model: 'fake-model', messages: [{ role: 'user', content: 'Hi' }], stream: true }, new AbortController().signal, sink);
    await settled;
    client.close();
    expect(outcome.chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')).toBe('Hello world');
    expect(outcome).toMatchObject({ ended: 1, failures: [] });
  });

  it('fails the call, without throwing, when Node refuses to build the request (a key with a line break)', async () => {
    const client = new Upstream({ url: upstream.url, apiKey: 'sk-bad\nkey', timeoutMs: 200 });
    const { sink, outcome, settled } = collect();
    expect(() => client.stream('chat', { model: 'fake-model', stream: true }, new AbortController().signal, sink)).not.toThrow();
    await settled;
    // The timer and the abort listener were cleared: nothing more arrives after the timeout would have fired.
    await new Promise((r) => setTimeout(r, 400));
    client.close();
    expect(outcome.ended).toBe(0);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0].message).toMatch(/header/i);
  });

  it('fails the call with the consumer\'s error when the consumer throws, and closes the connection', async () => {
    upstream.mode = { kind: 'stream', words: ['a', 'b', 'c'] };
    const client = new Upstream({ url: upstream.url, timeoutMs: 5000 });
    const { sink, outcome, settled } = collect(() => {
      throw new Error('consumer broke');
    });
    client.stream('chat', { model: 'fake-model', stream: true }, new AbortController().signal, sink);
    await settled;
    client.close();
    expect(outcome.chunks).toHaveLength(1);
    expect(outcome.ended).toBe(0);
    expect(outcome.failures.map((e) => e.message)).toEqual(['consumer broke']);
  });
});
