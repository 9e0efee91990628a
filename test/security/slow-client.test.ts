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
import { FinishReason, ModelKind, WorkerService, type GenerateRequest, type GenerateResponse, type WorkerServer } from '../../src/common/gen/worker';
import { parseConfig } from '../../src/common/config';
import { createClient, unary } from '../../src/common/grpc/client';
import { startGrpcServer, type RunningGrpcServer } from '../../src/common/grpc/server';
import { silentLogger } from '../../src/common/log';
import { controllerOptions, startController, type RunningController } from '../../src/controller/main';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import { waitFor } from '../support/stack';

jest.setTimeout(120_000);

const CHUNK_TEXT = 'x'.repeat(16 * 1024);
const CHUNKS = 3072; // 48 MiB

function chunk(partial: Partial<GenerateResponse>): GenerateResponse {
  return { text: '', tokenIds: [], logprobs: [], finishReason: FinishReason.FINISH_REASON_UNSPECIFIED, usage: undefined, promptText: '', matchedStop: '', matchedStopTokenId: -1, promptTokenIds: [], promptLogprobs: [], toolCalls: [], index: 0, ...partial };
}

const unimplemented = (_call: unknown, cb: (e: Error) => void): void => cb(new Error('not used'));
const fastWorker: WorkerServer = {
  generate: (call: ServerWritableStream<GenerateRequest, GenerateResponse>) => {
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
  const info = WorkerInfo.fromPartial({ workerId: 'fast', address: worker.address, modelNames: ['fast'], kind: ModelKind.MODEL_KIND_GENERATION, contextLength: 1 << 20, status: { maxConcurrency: 4 } });
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
