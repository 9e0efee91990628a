/** The public gRPC API over TLS (--grpc-tls-cert / --grpc-tls-key): TLS clients are served, plaintext ones are not. */
import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { InferenceClient } from '../../src/common/gen/inference';
import { createClient, unary } from '../../src/common/grpc/client';
import { runCli } from '../support/cli';
import { TestCa } from '../support/cluster-certs';
import { tinyModel } from '../support/models';
import { startStack, type Stack } from '../support/stack';

describe('public gRPC API over TLS', () => {
  let stack: Stack;
  let ca: TestCa;
  let port: string;
  beforeAll(async () => {
    ca = new TestCa();
    const files = ca.issue('gateway', []);
    stack = await startStack({
      workers: [{ model: await tinyModel(), names: ['tiny'] }],
      gatewayArgs: ['--grpc-listen', '127.0.0.1:0', '--grpc-tls-cert', files.cert, '--grpc-tls-key', files.key],
    });
    port = (stack.gateway.grpcAddress ?? '').split(':').pop() ?? '';
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    ca?.remove();
  });

  it('serves a client that trusts the certificate', async () => {
    const client = new InferenceClient(`localhost:${port}`, credentials.createSsl(readFileSync(ca.caFile)));
    const res = await unary(client.listModels.bind(client), {}, new Metadata(), 5000);
    client.close();
    expect(res.models.map((m) => m.name)).toEqual(['tiny']);
  });

  it('refuses a plaintext client', async () => {
    const client = createClient(InferenceClient, `127.0.0.1:${port}`);
    await expect(unary(client.listModels.bind(client), {}, new Metadata(), 3000)).rejects.toMatchObject({ kind: expect.stringMatching(/unavailable|deadline_exceeded/) });
    client.close();
  });

  it('fleetchat client --ca-cert connects over TLS', async () => {
    const res = await runCli(['client', 'models', '--address', `localhost:${port}`, '--ca-cert', ca.caFile]);
    expect(res.stdout).toMatch(/^tiny\tgeneration/m);
  }, 60_000);
});
