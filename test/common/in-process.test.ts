/**
 * The in-process call (src/common/grpc/in-process.ts) keeps a gRPC server-streaming call's semantics: order,
 * back-pressure with 'drain', errors with their status, cancel and deadline reaching the server, shutdown with a
 * grace period, and no object shared between the two sides.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { GenerateRequest, GenerateResponse } from '../../src/common/gen/worker';
import { InProcessServers, type ClientStreamCall, type ServerStreamCall } from '../../src/common/grpc/in-process';

type Call = ServerStreamCall<GenerateRequest, GenerateResponse>;

const request = (text = 'hi'): GenerateRequest => GenerateRequest.fromPartial({ model: 'm', requestId: 'r', prompt: text });
const chunk = (i: number): GenerateResponse => GenerateResponse.fromPartial({ text: `t${i}`, tokenIds: [i], matchedStopTokenId: -1 });

/** Collects a call's events until its status. */
function collect(call: ClientStreamCall): Promise<{ texts: string[]; error?: ServiceError; code: number; ended: boolean }> {
  return new Promise((resolve) => {
    const texts: string[] = [];
    let error: ServiceError | undefined;
    let ended = false;
    call.on('data', (c: GenerateResponse) => texts.push(c.text));
    call.on('error', (e: ServiceError) => (error = e));
    call.on('end', () => (ended = true));
    call.on('status', (s: { code: number }) => setImmediate(() => resolve({ texts, error, code: s.code, ended })));
  });
}

describe('in-process server-streaming calls', () => {
  const servers = new InProcessServers<GenerateRequest, GenerateResponse>(GenerateRequest, GenerateResponse);

  it('delivers every message in order, then the OK status and end; the request is a copy', async () => {
    let seen: GenerateRequest | undefined;
    const sent = request('hello');
    const server = servers.serve('a:1', (call: Call) => {
      seen = call.request;
      for (let i = 0; i < 5; i++) call.write(chunk(i));
      call.end();
    });
    const result = await collect(servers.open('a:1', sent) ?? fail('not served'));
    expect(result).toEqual({ texts: ['t0', 't1', 't2', 't3', 't4'], error: undefined, code: status.OK, ended: true });
    expect(seen).toEqual(sent);
    expect(seen).not.toBe(sent);
    await server.close(0);
    expect(servers.open('a:1', sent)).toBeUndefined();
  });

  it('write returns false while the caller is paused and the server gets drain when it reads again', async () => {
    let drains = 0;
    let refused = -1;
    const server = servers.serve('a:2', (call: Call) => {
      let i = 0;
      const pump = (): void => {
        while (i < 100) {
          const ok = call.write(chunk(i++));
          if (!ok) {
            if (refused < 0) refused = i;
            return;
          }
        }
        call.end();
      };
      call.on('drain', () => {
        drains += 1;
        pump();
      });
      pump();
    });
    const call = servers.open('a:2', request()) ?? fail('not served');
    call.pause();
    await new Promise((r) => setTimeout(r, 20));
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(16);
    const result = collect(call);
    call.resume();
    const { texts, code } = await result;
    expect(code).toBe(status.OK);
    expect(texts).toEqual(Array.from({ length: 100 }, (_, i) => `t${i}`));
    expect(drains).toBeGreaterThan(0);
    await server.close(0);
  });

  it('an error the server emits reaches the caller with its code, details and metadata', async () => {
    const server = servers.serve('a:3', (call: Call) => {
      call.write(chunk(0));
      const err = Object.assign(new Error('8 RESOURCE_EXHAUSTED: queue full'), { code: status.RESOURCE_EXHAUSTED, details: 'queue full' });
      call.emit('error', err);
    });
    const { texts, error, code } = await collect(servers.open('a:3', request()) ?? fail('not served'));
    expect(texts).toEqual(['t0']);
    expect(code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error?.details).toBe('queue full');
    await server.close(0);
  });

  it('cancel and the deadline reach the server as cancelled; the caller sees CANCELLED / DEADLINE_EXCEEDED', async () => {
    const cancelled: string[] = [];
    const server = servers.serve('a:4', (call: Call) => {
      call.on('cancelled', () => cancelled.push(call.request.requestId));
      call.write(chunk(0));
    });
    const byCaller = servers.open('a:4', GenerateRequest.fromPartial({ requestId: 'cancel' })) ?? fail('not served');
    const first = new Promise((r) => byCaller.once('data', r));
    const cancelledResult = collect(byCaller);
    await first;
    byCaller.cancel();
    expect((await cancelledResult).code).toBe(status.CANCELLED);
    const late = servers.open('a:4', GenerateRequest.fromPartial({ requestId: 'deadline' }), new Date(Date.now() + 50)) ?? fail('not served');
    const timedOut = await collect(late);
    expect(timedOut.code).toBe(status.DEADLINE_EXCEEDED);
    expect(timedOut.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(cancelled).toEqual(['cancel', 'deadline']);
    await server.close(0);
  });

  it('close stops new calls at once, waits up to the grace period, then fails what is left with UNAVAILABLE', async () => {
    const server = servers.serve('a:5', (call: Call) => call.write(chunk(0)));
    const open = collect(servers.open('a:5', request()) ?? fail('not served'));
    const started = Date.now();
    const closing = server.close(100);
    expect(servers.serves('a:5')).toBe(false);
    await closing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const { texts, code } = await open;
    expect(texts).toEqual(['t0']);
    expect(code).toBe(status.UNAVAILABLE);
  });
});

function fail(message: string): never {
  throw new Error(message);
}
