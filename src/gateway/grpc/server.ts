/**
 * The gateway's public gRPC server (--grpc-listen): fleetchat.v1.Inference, the standard health service
 * (grpc.health.v1.Health, "" and "fleetchat.v1.Inference") and server reflection (v1 and v1alpha, so grpcurl and
 * Postman discover the API), over TLS when a certificate and key are given. Keepalive: the server pings an idle
 * connection every 30 s and accepts client pings every 5 s or more (with or without calls in flight).
 */
import { readFileSync } from 'node:fs';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FleetError } from '../../common/errors';
import { InferenceService } from '../../common/gen/inference';
import { PUBLIC_API_DESCRIPTOR_SET } from '../../common/gen/public-api-descriptors';
import type { Logger } from '../../common/log';
import { startGrpcServer, type RunningGrpcServer } from '../../common/grpc/server';
import type { GatewayContext } from '../context';
import type { RateLimiter } from '../rate-limit';
import { inferenceService } from './inference';

export const INFERENCE_SERVICE_NAME = 'fleetchat.v1.Inference';

export interface PublicGrpcOptions {
  address: string;
  apiKeys: readonly string[];
  /** PEM files; both or neither. */
  tlsCert: string;
  tlsKey: string;
  logger: Logger;
  /** The per-client request limiter (shared with the HTTP API); none = no limit. */
  rateLimiter?: RateLimiter;
}

function credentialsOf(options: PublicGrpcOptions): ServerCredentials | undefined {
  if (options.tlsCert === '' && options.tlsKey === '') return undefined;
  if (options.tlsCert === '' || options.tlsKey === '') throw new FleetError('invalid_request', '--grpc-tls-cert and --grpc-tls-key go together');
  return ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(options.tlsCert), private_key: readFileSync(options.tlsKey) }], false);
}

/** The FileDescriptorProtos of a FileDescriptorSet (field 1), byte for byte as protoc wrote them. */
function fileDescriptors(set: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(set);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  return files;
}

/**
 * Server reflection over protoc's own descriptors. (@grpc/proto-loader's loaders rebuild descriptors through
 * protobufjs, which turns map fields into invalid ones that grpcurl refuses; the reflection service only needs
 * `fileDescriptorProtos`, so it gets the originals.) Only the services this server answers are listed.
 */
function addReflection(server: Server): void {
  const definition = { fileDescriptorProtos: fileDescriptors(Buffer.from(PUBLIC_API_DESCRIPTOR_SET, 'base64')), format: 'Protocol Buffer 3 FileDescriptorProto' as const };
  const root = { [INFERENCE_SERVICE_NAME]: definition } as unknown as ConstructorParameters<typeof ReflectionService>[0];
  new ReflectionService(root, { services: [INFERENCE_SERVICE_NAME, 'grpc.health.v1.Health'] }).addToServer(server);
}

export function startPublicGrpc(ctx: GatewayContext, options: PublicGrpcOptions): Promise<RunningGrpcServer> {
  return startGrpcServer({
    address: options.address,
    services: [{ name: INFERENCE_SERVICE_NAME, definition: InferenceService, implementation: inferenceService(ctx, { apiKeys: options.apiKeys, rateLimiter: options.rateLimiter }) }],
    logger: options.logger,
    credentials: credentialsOf(options),
    configure: addReflection,
  });
}
