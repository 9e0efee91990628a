/** Turning thrown values into gRPC ServiceErrors that carry the FleetError kind in metadata. */
import { Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import { asFleetError, grpcErrorMetadata } from '../errors';

export function toServiceError(err: unknown): ServerErrorResponse {
  const fe = asFleetError(err);
  const metadata = new Metadata();
  for (const [k, v] of grpcErrorMetadata(fe)) metadata.set(k, v);
  const out: ServerErrorResponse = Object.assign(new Error(fe.message), {
    code: fe.grpcStatus,
    details: fe.message,
    metadata,
  });
  return out;
}
