/**
 * A client that never reads its stream (issue 18): the gateway must not buffer the whole output. A fast worker
 * (a real gRPC server that streams 48 MiB of text as quickly as flow control lets it, honouring its own
 * backpressure) sits behind a real controller and gateway. The client sends one streamed completion and stops
 * reading: the gateway pauses the worker stream when its socket buffer is full, so it holds about one buffer
 * (not the output), and the stream completes once the client reads again.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { ControllerClient, WorkerInfo } from '../../src/common/gen/controller';
import { FinishReason, GenerateRequest, ModelKind, WorkerService, type GenerateResponse, type WorkerServer } from '../../src/common/gen/worker';
import { parseConfig } from '../../src/common/config';
import { createClient, unary } from '../../src/common/grpc/client';
import { startGrpcServer, type RunningGrpcServer } from '../../src/common/grpc/server';
import { silentLogger } from '../../src/common/log';
import { controllerOptions, startController, type RunningController } from '../../src/controller/main';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import { startGeneration } from '../../src/gateway/upstream/generate';
import { waitFor } from '../support/stack';

jest.setTimeout(120_000);

const CHUNK_TEXT = 'x'.repeat(16 * 1024);
const CHUNKS = 3072; // 48 MiB

function chunk(partial: Partial<GenerateResponse>): GenerateResponse {
  return { text: '', tokenIds: [], logprobs: [], finishReason: FinishReason.FINISH_REASON_UNSPECIFIED, usage: undefined, promptText: '', matchedStop: '', matchedStopTokenId: -1, promptTokenIds: [], promptLogprobs: [], toolCalls: [], index: 0, ...partial };
}

const unimplemented = (_call: unknown, cb: (e: Error) => void): void => cb(new Error('not used'));
/** Requests for model `short` get this many chunks and the end: fewer than a paused grpc-js stream buffers. */
const SHORT_CHUNKS = 5;
let shortFinished = 0;

const fastWorker: WorkerServer = {
  generate: (call: ServerWritableStream<GenerateRequest, GenerateResponse>) => {
    if (call.request.model === 'short') {
      for (let i = 0; i < SHORT_CHUNKS; i++) call.write(chunk({ text: 'y', tokenIds: [1] }));
      call.write(chunk({ finishReason: FinishReason.FINISH_REASON_LENGTH }));
      call.end();
      call.on('finish', () => { shortFinished += 1; });
      return;
    }
    void (async () => {
      for (let i = 0; i < CHUNKS && !call.cancelled; i++) {
        if (!call.write(chunk({ text: CHUNK_TEXT, tokenIds: [1] }))) await once(call, 'drain');
      }
      if (call.cancelled) return;
      call.write(chunk({ finishReason: FinishReason.FINISH_REASON_LENGTH, usage: { promptTokens: 1, completionTokens: CHUNKS, totalTokens: CHUNKS + 1, cachedTokens: 0 } }));
      call.end();
    })();
  },
  embed: unimplemented,
  countTokens: unimplemented,
  getModelInfo: unimplemented,
  getStatus: unimplemented,
};

let controller: RunningController;
let worker: RunningGrpcServer;
let gateway: RunningGateway;
const serverSockets: Socket[] = [];

beforeAll(async () => {
  controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0']), silentLogger());
  worker = await startGrpcServer({ address: '127.0.0.1:0', services: [{ name: 'fleetchat.v1.Worker', definition: WorkerService, implementation: fastWorker }] });
  const client = createClient(ControllerClient, controller.address);
  const info = WorkerInfo.fromPartial({ workerId: 'fast', address: worker.address, modelNames: ['fast', 'short'], kind: ModelKind.MODEL_KIND_GENERATION, contextLength: 1 << 20, status: { maxConcurrency: 4 } });
  await unary(client.registerWorker.bind(client), { worker: info }, new Metadata(), 3000);
  client.close();
  gateway = await startGateway(parseConfig(gatewayOptions, ['--controller', controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:']), silentLogger());
  await waitFor(() => gateway.ctx.view.models().length > 0, 5000);
  gateway.app.server.on('connection', (s: Socket) => serverSockets.push(s));
});

afterAll(async () => {
  await gateway?.stop();
  await worker?.shutdown(200);
  await controller?.stop(200);
});

/** Bytes the gateway has written for its clients that their sockets have not taken yet. */
function heldByGateway(): number {
  return serverSockets.reduce((sum, s) => sum + (s.destroyed ? 0 : s.writableLength), 0);
}

it('holds about one socket buffer for a client that does not read, then finishes when it reads', async () => {
  const url = new URL(gateway.url);
  const body = JSON.stringify({ model: 'fast', prompt: 'hi', max_tokens: CHUNKS, stream: true });
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  socket.write(`POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.pause();
  const rssBefore = process.memoryUsage().rss;
  let peak = 0;
  let rssPeak = rssBefore;
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 100));
    peak = Math.max(peak, heldByGateway());
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  let received = 0;
  let tail = '';
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (b: Buffer) => {
      received += b.length;
      tail = (tail + b.toString('latin1')).slice(-64);
      if (tail.includes('data: [DONE]')) resolve();
    });
    socket.on('error', reject);
  });
  socket.resume();
  await done;
  socket.destroy();
  console.log(`slow client: the gateway held at most ${(peak / 1024).toFixed(0)} KiB (RSS +${((rssPeak - rssBefore) / 1048576).toFixed(0)} MiB) while the client paused; ${(received / 1048576).toFixed(1)} MiB delivered after it read`);
  expect(received).toBeGreaterThan(CHUNKS * CHUNK_TEXT.length);
  expect(peak).toBeLessThan(2 * 1024 * 1024);
});

it('a worker call that ends while the gateway has it paused is released when the client goes away', async () => {
  // The gateway pauses a worker stream while its client is not reading. A short answer can end (status OK) inside
  // that pause: grpc-js then emits 'end' only once the buffered chunks are read — which never happens if the client
  // disconnects — so the call must be released on the worker's status, or it stays counted against the worker
  // (fleetchat_gateway_worker_calls and the shortest-queue pick) forever.
  const before = gateway.ctx.view.callsInFlight();
  const events: string[] = [];
  const finished = shortFinished;
  const handle = startGeneration(gateway.ctx.generate, GenerateRequest.fromPartial({ model: 'short', prompt: 'hi' }), {
    onChunk: () => {
      events.push('chunk');
      handle.pause(); // what the SSE writer does when its client's socket is full
    },
    onError: (e) => events.push(`error ${e.message}`),
    onEnd: () => events.push('end'),
  });
  await waitFor(() => shortFinished > finished, 5000);
  await new Promise((r) => setTimeout(r, 200)); // the status crosses to the gateway
  handle.cancel(); // the client disconnected while paused
  await waitFor(() => gateway.ctx.view.callsInFlight() === before, 2000).catch(() => undefined);
  expect(gateway.ctx.view.callsInFlight()).toBe(before);
  expect(events).toEqual(['chunk']); // nothing is delivered after the pause, and a cancelled call reports nothing
});
