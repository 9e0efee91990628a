/**
 * The gateway's HTTP server against slow and greedy clients (issue 18): a client that trickles its headers or its
 * body (slowloris), or opens a connection and sends nothing, is cut off after --headers-timeout / --body-timeout
 * (old main: requestTimeout 0, such connections stayed open for ever); idle keep-alive connections close after
 * --keep-alive-timeout; connections beyond --max-connections are closed at once; --rate-limit gives each API key (or
 * client address) a token bucket, 429 with Retry-After beyond it. A streamed answer that outlasts the body timeout
 * is not cut (the timeout covers receiving the request only).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { InferenceClient } from '../../src/common/gen/inference';
import { createClient } from '../../src/common/grpc/client';
import { decodeDetails } from '../support/grpc-status';
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';

jest.setTimeout(120_000);

let stack: Stack;
let keyed: Stack;

beforeAll(async () => {
  const model = await tinyModel();
  stack = await startStack({
    workers: [{ model, names: ['tiny'] }],
    gatewayArgs: ['--headers-timeout', '1s', '--body-timeout', '2s', '--keep-alive-timeout', '1s', '--max-connections', '4', '--rate-limit', '2,5', '--trust-proxy', '127.0.0.1'],
  });
  keyed = await startStack({ workers: [{ model, names: ['tiny'] }], gatewayArgs: ['--api-keys', 'key-a,key-b,key-c', '--rate-limit', '1,3', '--grpc-listen', '127.0.0.1:0'] });
});

afterAll(async () => {
  await stack?.stop();
  await keyed?.stop();
});

async function open(url: string): Promise<Socket> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await once(socket, 'connect');
  return socket;
}

/** Milliseconds until the server closes `socket`, and what it sent before. */
function closedAfter(socket: Socket, limitMs: number): Promise<{ ms: number; received: string }> {
  const started = performance.now();
  let received = '';
  socket.on('data', (b: Buffer) => (received += b.toString()));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ms: Infinity, received }), limitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, received });
    });
  });
}

async function trickle(socket: Socket, text: string, everyMs: number): Promise<void> {
  for (const ch of text) {
    if (socket.destroyed) return;
    socket.write(ch);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

it('a connection that sends nothing, or trickles its headers, is closed after the headers timeout', async () => {
  const silent = await open(stack.url);
  const slowHeaders = await open(stack.url);
  const headers = 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-pad: ' + 'p'.repeat(200);
  void trickle(slowHeaders, headers, 50);
  const [a, b] = await Promise.all([closedAfter(silent, 8000), closedAfter(slowHeaders, 8000)]);
  console.log(`headers timeout 1s: silent connection closed after ${a.ms.toFixed(0)} ms, trickled headers after ${b.ms.toFixed(0)} ms`);
  expect(a.ms).toBeLessThan(3000);
  expect(b.ms).toBeLessThan(3000);
  expect(b.received).toMatch(/^HTTP\/1\.1 408/);
});

it('a body trickled slower than the body timeout gets 408 and the connection closes', async () => {
  const socket = await open(stack.url);
  const body = JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi '.repeat(100) }], max_tokens: 1 });
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
  void trickle(socket, body, 50);
  const r = await closedAfter(socket, 10_000);
  console.log(`body timeout 2s: trickled body closed after ${r.ms.toFixed(0)} ms`);
  expect(r.ms).toBeLessThan(4500);
  expect(r.received).toMatch(/^HTTP\/1\.1 408/);
});

it('an idle keep-alive connection closes after the keep-alive timeout; a stream longer than the body timeout completes', async () => {
  const socket = await open(stack.url);
  socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  const r = await closedAfter(socket, 8000);
  expect(r.received).toMatch(/^HTTP\/1\.1 200/);
  expect(r.ms).toBeLessThan(3500);
  const started = performance.now();
  const res = await fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', prompt: 'once upon a time', max_tokens: 400, ignore_eos: true, stream: true }),
  });
  const reader = res.body?.getReader();
  let text = '';
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    text += Buffer.from(chunk.value).toString();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  console.log(`a streamed answer of ${((performance.now() - started) / 1000).toFixed(1)} s completed under a 2 s body timeout`);
  expect(res.status).toBe(200);
  expect(text).toContain('data: [DONE]');
});

it('connections beyond --max-connections are closed at once and counted', async () => {
  const held = await Promise.all([0, 1, 2, 3].map(() => open(stack.url)));
  const extra = await open(stack.url);
  const r = await closedAfter(extra, 3000);
  expect(r.ms).toBeLessThan(500);
  expect(r.received).toBe('');
  for (const s of held) s.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  expect(metrics).toMatch(/fleetchat_gateway_connections_refused_total [1-9]/);
});

it('--rate-limit: a token bucket per API key, 429 with Retry-After beyond it', async () => {
  const get = (key: string): Promise<Response> => fetch(`${keyed.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  const a = [];
  for (let i = 0; i < 4; i++) a.push(await get('key-a'));
  expect(a.map((r) => r.status)).toEqual([200, 200, 200, 429]);
  expect(Number(a[3].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = (await a[3].json()) as { error: { type: string; code: string; message: string } };
  expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
  expect(body.error.message).toMatch(/at most 1 requests a second \(bursts of 3\)/);
  expect((await get('key-b')).status).toBe(200);
  expect((await fetch(`${keyed.url}/health`)).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  expect((await get('key-a')).status).toBe(200);
});

it('--rate-limit covers the public gRPC door with the same per-key budget (RESOURCE_EXHAUSTED + RetryInfo)', async () => {
  const client = createClient(InferenceClient, keyed.gateway.grpcAddress ?? '');
  const metadata = new Metadata();
  metadata.set('authorization', 'Bearer key-c');
  const list = (): Promise<ServiceError | undefined> => new Promise((resolve) => client.listModels({}, metadata, (err) => resolve(err ?? undefined)));
  try {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await list());
    expect(results.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(results[3]?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(decodeDetails(results[3] as ServiceError).retryInfo).toBeDefined();
    // One budget across both doors: the key's HTTP requests are refused too until a token comes back.
    expect((await fetch(`${keyed.url}/v1/models`, { headers: { authorization: 'Bearer key-c' } })).status).toBe(429);
  } finally {
    client.close();
  }
});

it('--rate-limit without keys: per client address (X-Forwarded-For from a trusted proxy)', async () => {
  const get = (ip: string): Promise<Response> => fetch(`${stack.url}/v1/models`, { headers: { 'x-forwarded-for': ip } });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await get('203.0.113.7')).status);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  expect((await get('203.0.113.8')).status).toBe(200);
});
