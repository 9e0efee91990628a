/**
 * The server side of bench/adapter/floor.ts, in its own process: a bare node:http server and a bare grpc-js Worker
 * server (no fleetchat code on the path) that stamp when a request reached them and when they wrote the "first token"
 * (`ENGINE_MS` later, like an engine thinking). Sends its addresses to the parent over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { GenerateResponse, WorkerService, type GenerateRequest } from '../../src/common/gen/worker';
import { startGrpcServer } from '../../src/common/grpc/server';
import { hopClockMs } from '../../src/common/log';

const ENGINE_MS = Number(process.argv[2] ?? 15);

async function main(): Promise<void> {
  const http = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      JSON.parse(body);
      const handler = hopClockMs();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      setTimeout(() => res.end(`data: ${JSON.stringify({ handler, written: hopClockMs() })}\n\n`), ENGINE_MS);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const implementation: UntypedServiceImplementation = {
    generate(call: ServerWritableStream<GenerateRequest, GenerateResponse>) {
      const handler = hopClockMs();
      call.sendMetadata(new Metadata());
      setTimeout(() => {
        call.write(GenerateResponse.fromPartial({ text: JSON.stringify({ handler, written: hopClockMs() }), matchedStopTokenId: -1 }));
        call.end();
      }, ENGINE_MS);
    },
  };
  const grpc = await startGrpcServer({ address: '127.0.0.1:0', services: [{ name: 'fleetchat.v1.Worker', definition: WorkerService, implementation }] });
  process.send?.({ http: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, grpc: grpc.address });
  process.on('disconnect', () => process.exit(0));
}

void main();
