/** Decoding the google.rpc.Status a public gRPC error carries (grpc-status-details-bin), as any client would. */
import type { ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, ResourceInfo, RetryInfo } from '../../src/common/gen/google/rpc/error_details';
import { Status } from '../../src/common/gen/google/rpc/status';

export interface DecodedDetails {
  errorInfo?: ErrorInfo;
  badRequest?: BadRequest;
  resourceInfo?: ResourceInfo;
  retryInfo?: RetryInfo;
}

export function decodeDetails(err: ServiceError): DecodedDetails {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(raw)) return {};
  const status = Status.decode(raw);
  const out: DecodedDetails = {};
  for (const any of status.details) {
    const type = any.typeUrl.split('/').pop();
    if (type === 'google.rpc.ErrorInfo') out.errorInfo = ErrorInfo.decode(any.value);
    if (type === 'google.rpc.BadRequest') out.badRequest = BadRequest.decode(any.value);
    if (type === 'google.rpc.ResourceInfo') out.resourceInfo = ResourceInfo.decode(any.value);
    if (type === 'google.rpc.RetryInfo') out.retryInfo = RetryInfo.decode(any.value);
  }
  return out;
}
