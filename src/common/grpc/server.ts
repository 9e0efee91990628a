/**
 * gRPC server lifecycle: bind, register services plus the standard health service, and shut down
 * gracefully (health NOT_SERVING, stop accepting, drain in-flight calls up to a grace period, then force).
 */
import { Server, type ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { HealthRegistry, HealthServiceDefinition } from './health';
import { PLAINTEXT, type ClusterSecurity, type Refusal } from './credentials';
import { describeIdentity } from './identity';

export interface ServiceBinding {
  /** Fully-qualified service name, e.g. `fleetchat.v1.Worker` (used for health status). */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** host:port; port 0 picks a free port. */
  address: string;
  services: ServiceBinding[];
  logger?: Logger;
  /** Max message size in bytes (both directions). */
  maxMessageBytes?: number;
  /** Server credentials that replace `security`'s (a public TLS port: no client certificates, no cluster roles). */
  credentials?: ServerCredentials;
  /** Adds more services before binding (e.g. server reflection). */
  configure?: (server: Server) => void;
  /** mTLS / shared token / plaintext (default). */
  security?: ClusterSecurity;
  /** Called for every call refused by the security layer (after it is logged). */
  onRefused?: (refusal: Refusal) => void;
}

export interface RunningGrpcServer {
  server: Server;
  health: HealthRegistry;
  /** Bound port (useful with port 0). */
  port: number;
  /** host:port that clients can dial. */
  address: string;
  /** Graceful shutdown: drain for up to graceMs, then cancel what is left. */
  shutdown(graceMs?: number): Promise<void>;
}

export const KEEPALIVE_SERVER_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  // No channelz (not served): no per-call and per-message bookkeeping.
  'grpc.enable_channelz': 0,
};

function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  return host === '' || host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const logger = options.logger ?? silentLogger();
  const maxBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const security = (options.security ?? PLAINTEXT).server((refusal) => {
    logger.warn({ reason: refusal.reason, method: refusal.method, peer: refusal.peer, identity: describeIdentity(refusal.identity) }, 'gRPC call refused');
    options.onRefused?.(refusal);
  });
  const server = new Server({
    interceptors: security.interceptors,
    ...KEEPALIVE_SERVER_OPTIONS,
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
  });
  const health = new HealthRegistry(options.services.map((s) => s.name));
  server.addService(HealthServiceDefinition, health.implementation());
  for (const s of options.services) server.addService(s.definition, s.implementation);
  options.configure?.(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, options.credentials ?? security.credentials, (err, boundPort) => {
      if (err) reject(new Error(`binding gRPC server to ${options.address}: ${err.message}`, { cause: err }));
      else resolve(boundPort);
    });
  });
  const address = `${hostOf(options.address)}:${port}`;
  logger.info({ address, services: options.services.map((s) => s.name), tls: options.credentials !== undefined || (options.security ?? PLAINTEXT).mode === 'mtls' }, 'gRPC server listening');
  let closing: Promise<void> | undefined;
  const shutdown = (graceMs = 10_000): Promise<void> => {
    closing ??= drain(server, health, graceMs, logger);
    return closing;
  };
  return { server, health, port, address, shutdown };
}

async function drain(server: Server, health: HealthRegistry, graceMs: number, logger: Logger): Promise<void> {
  health.setAllNotServing();
  health.closeWatchers();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      logger.warn({ graceMs }, 'grace period over; cancelling remaining calls');
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
