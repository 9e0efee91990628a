/**
 * `fleetchat client …`: a small client of the gateway's public gRPC API (fleetchat.v1.Inference) — the generated
 * grpc-js stub, the API key as `authorization` metadata, a deadline on every call, TLS when asked, keepalive pings.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError, type FleetError } from '../../common/errors';
import { InferenceClient, type ChatRequest, type GenerationChunk } from '../../common/gen/inference';
import { KEEPALIVE_CLIENT_OPTIONS, deadlineIn } from '../../common/grpc/client';

export interface ClientConnection {
  address: string;
  apiKey?: string;
  tls: boolean;
  /** PEM file of the CA that signed the gateway's certificate (implies TLS); empty = the system's roots. */
  caCert: string;
}

export function connect(c: ClientConnection): InferenceClient {
  const tls = c.tls || c.caCert !== '';
  const creds: ChannelCredentials = tls ? credentials.createSsl(c.caCert !== '' ? readFileSync(c.caCert) : null) : credentials.createInsecure();
  return new InferenceClient(c.address, creds, KEEPALIVE_CLIENT_OPTIONS);
}

export function authMetadata(apiKey: string | undefined): Metadata {
  const m = new Metadata();
  if (apiKey) m.set('authorization', `Bearer ${apiKey}`);
  return m;
}

export interface StreamedChat {
  /** Resolves with the finish reason's chunk; rejects with a FleetError (status, message, details). */
  done: Promise<GenerationChunk>;
  cancel(): void;
}

/** Streams one chat completion, handing every text delta to `onText`. */
export function streamChat(client: InferenceClient, request: ChatRequest, apiKey: string | undefined, timeoutMs: number, onText: (text: string) => void): StreamedChat {
  const call = client.chat(request, authMetadata(apiKey), { deadline: deadlineIn(timeoutMs) });
  let last: GenerationChunk | undefined;
  const done = new Promise<GenerationChunk>((resolve, reject: (e: FleetError) => void) => {
    call.on('data', (chunk: GenerationChunk) => {
      if (chunk.text !== '') onText(chunk.text);
      last = chunk;
    });
    call.on('error', (err: ServiceError) => reject(fromGrpcError(err)));
    call.on('end', () => (last ? resolve(last) : reject(fromGrpcError({ code: 13, details: 'the stream ended without a chunk' }))));
  });
  return { done, cancel: () => call.cancel() };
}
