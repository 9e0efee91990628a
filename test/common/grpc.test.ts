import { Metadata, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { createClient, deadlineIn, unary } from '../../src/common/grpc/client';
import { startGrpcServer, type RunningGrpcServer } from '../../src/common/grpc/server';
import { HealthClient, ServingStatus } from '../../src/common/grpc/health';
import { toServiceError } from '../../src/common/grpc/status';
import { FleetError } from '../../src/common/errors';
import {
  FinishReason, GenerateRequest, GenerateResponse, WorkerClient, WorkerService, type WorkerServer,
} from '../../src/common/gen/worker';

/**
 * A small Worker implementation for exercising the gRPC plumbing: streams one chunk per
 * 5 ms for `max_tokens` chunks, records cancellations.
 */
function streamingWorker(events: string[]): WorkerServer {
  const unimplemented = (_call: unknown, cb: (e: ReturnType<typeof toServiceError>) => void) => cb(toServiceError(new FleetError('unimplemented', 'not here')));
  return {
    generate: (call: ServerWritableStream<GenerateRequest, GenerateResponse>) => {
      const total = call.request.params?.maxTokens ?? 3;
      if (call.request.model === 'missing') {
        call.emit('error', toServiceError(new FleetError('not_found', `model '${call.request.model}' is not served here`)));
        return;
      }
      let sent = 0;
      call.on('cancelled', () => events.push('cancelled'));
      const timer = setInterval(() => {
        if (call.cancelled) {
          clearInterval(timer);
          return;
        }
        sent += 1;
        const last = sent >= total;
        call.write(GenerateResponse.fromPartial({ text: `t${sent} `, tokenIds: [sent], finishReason: last ? FinishReason.FINISH_REASON_LENGTH : FinishReason.FINISH_REASON_UNSPECIFIED }));
        if (last) {
          clearInterval(timer);
          call.end();
        }
      }, 5);
    },
    embed: unimplemented,
    countTokens: unimplemented,
    getModelInfo: unimplemented,
    getStatus: unimplemented,
  };
}

function request(model: string, maxTokens: number): GenerateRequest {
  return GenerateRequest.fromPartial({ requestId: 'r1', model, prompt: 'hi', params: { maxTokens } });
}

describe('gRPC server and client on loopback', () => {
  let server: RunningGrpcServer;
  let client: WorkerClient;
  const events: string[] = [];

  beforeAll(async () => {
    server = await startGrpcServer({
      address: '127.0.0.1:0',
      services: [{ name: 'fleetchat.v1.Worker', definition: WorkerService, implementation: streamingWorker(events) }],
    });
    client = createClient(WorkerClient, server.address);
  });

  afterAll(async () => {
    client.close();
    await server.shutdown(1000);
  });

  it('streams every chunk to the end', async () => {
    const texts: string[] = [];
    const reasons: FinishReason[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.generate(request('m', 4), { deadline: deadlineIn(5000) });
      call.on('data', (chunk: GenerateResponse) => {
        texts.push(chunk.text);
        reasons.push(chunk.finishReason);
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(texts.join('')).toBe('t1 t2 t3 t4 ');
    expect(reasons.at(-1)).toBe(FinishReason.FINISH_REASON_LENGTH);
  });

  it('lets the server see a client cancellation', async () => {
    events.length = 0;
    const call = client.generate(request('m', 1000), { deadline: deadlineIn(5000) });
    const err = await new Promise<ServiceError>((resolve) => {
      let got = 0;
      call.on('data', () => {
        got += 1;
        if (got === 2) call.cancel();
      });
      call.on('error', resolve);
    });
    expect(err.code).toBe(status.CANCELLED);
    await waitFor(() => events.includes('cancelled'));
    expect(events).toContain('cancelled');
  });

  it('ends a call whose deadline expires with DEADLINE_EXCEEDED', async () => {
    const call = client.generate(request('m', 1000), { deadline: deadlineIn(60) });
    const err = await new Promise<ServiceError>((resolve) => {
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('carries typed errors with their status', async () => {
    const call = client.generate(request('missing', 1), { deadline: deadlineIn(5000) });
    const err = await new Promise<ServiceError>((resolve) => {
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toMatch(/not served here/);
    expect(err.metadata.get('fleet-error-kind')).toEqual(['not_found']);
  });

  it('rejects unary calls with a FleetError', async () => {
    await expect(unary(client.getStatus.bind(client), {}, new Metadata(), 2000)).rejects.toMatchObject({ kind: 'unimplemented' });
  });

  it('answers the standard health service', async () => {
    const health = createClient(HealthClient, server.address);
    const overall = await unary(health.check.bind(health), { service: '' }, new Metadata(), 2000);
    const worker = await unary(health.check.bind(health), { service: 'fleetchat.v1.Worker' }, new Metadata(), 2000);
    await expect(unary(health.check.bind(health), { service: 'nope' }, new Metadata(), 2000)).rejects.toMatchObject({ kind: 'not_found' });
    health.close();
    expect(overall.status).toBe(ServingStatus.SERVING);
    expect(worker.status).toBe(ServingStatus.SERVING);
  });
});

describe('graceful shutdown', () => {
  it('drains an in-flight stream before closing', async () => {
    const server = await startGrpcServer({
      address: '127.0.0.1:0',
      services: [{ name: 'fleetchat.v1.Worker', definition: WorkerService, implementation: streamingWorker([]) }],
    });
    const client = createClient(WorkerClient, server.address);
    const texts: string[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      const call = client.generate(request('m', 20), { deadline: deadlineIn(5000) });
      call.on('data', (c: GenerateResponse) => texts.push(c.text));
      call.on('error', reject);
      call.on('end', resolve);
    });
    await waitFor(() => texts.length > 0);
    await server.shutdown(5000);
    await finished;
    client.close();
    expect(texts).toHaveLength(20);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
