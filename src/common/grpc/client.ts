/** gRPC client helpers: channel options with keepalive, deadlines on every call, promisified unary calls. */
import { credentials, type ChannelCredentials, type ClientOptions, type ChannelOptions, type ClientUnaryCall, type Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError, type FleetError } from '../errors';
import { PLAINTEXT, type ClientSecurity } from './credentials';

export const KEEPALIVE_CLIENT_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.enable_retries': 0,
  // No channelz (grpc-js's introspection service, which fleetchat does not serve): no per-call and per-message
  // counters and timestamps.
  'grpc.enable_channelz': 0,
};

export const insecure = credentials.createInsecure;

export interface ClientConstructor<C> {
  new (address: string, creds: ChannelCredentials, options?: Partial<ClientOptions>): C;
}

/**
 * Creates a generated ts-proto client with our channel options; `security` comes from
 * `ClusterSecurity.client(peerRole)` (plaintext when omitted).
 */
export function createClient<C>(Ctor: ClientConstructor<C>, address: string, options: ChannelOptions = {}, security: ClientSecurity = PLAINTEXT.client()): C {
  return new Ctor(address, security.credentials, { ...KEEPALIVE_CLIENT_OPTIONS, ...options, ...security.options });
}

/** A deadline `ms` from now. */
export function deadlineIn(ms: number): Date {
  return new Date(Date.now() + ms);
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/**
 * Calls a unary method with a deadline and resolves to the response; rejects with a FleetError.
 * `method` must be bound to its client (e.g. `client.getStatus.bind(client)`).
 */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Res> {
  return new Promise<Res>((resolve, reject: (e: FleetError) => void) => {
    const call = method(request, metadata, { deadline: deadlineIn(timeoutMs) }, (error, response) => {
      signal?.removeEventListener('abort', cancel);
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
    // `signal` cancels the call (the server sees it as cancelled); the promise rejects with `cancelled`.
    function cancel(): void {
      call.cancel();
    }
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
  });
}
