/**
 * A FleetError as a gRPC status for public clients: the code from the one error model, plus a google.rpc.Status in
 * the `grpc-status-details-bin` trailer (what grpcio-status, grpc-go's status.Details and grpcurl decode):
 * ErrorInfo (reason, domain "fleetchat", metadata), BadRequest naming the invalid field, ResourceInfo and the list
 * of served models for NOT_FOUND, RetryInfo when a retry may succeed. The fleet-error-* metadata of the internal
 * plane is kept too, so a fleetchat client rebuilds the exact FleetError.
 */
import { Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import { asFleetError, grpcErrorMetadata, type FleetError } from '../../common/errors';
import { Any } from '../../common/gen/google/protobuf/any';
import { BadRequest, ErrorInfo, ResourceInfo, RetryInfo } from '../../common/gen/google/rpc/error_details';
import { Status } from '../../common/gen/google/rpc/status';

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const DOMAIN = 'fleetchat';
const TYPE_PREFIX = 'type.googleapis.com/google.rpc.';

export interface ErrorFacts {
  /** The served model names (NOT_FOUND for a model lists them). */
  availableModels?: string[];
}

function packed(name: string, value: Uint8Array): Any {
  return { typeUrl: `${TYPE_PREFIX}${name}`, value: Buffer.from(value) };
}

/** The retry delay a client should wait: the error's own, else 1 s for overload and unavailability. */
function retryDelayS(fe: FleetError): number | undefined {
  if (fe.retryAfterS !== undefined) return fe.retryAfterS;
  return fe.kind === 'overloaded' || fe.kind === 'unavailable' ? 1 : undefined;
}

export function statusDetails(fe: FleetError, facts: ErrorFacts = {}): Status {
  const details: Any[] = [];
  const metadata: Record<string, string> = { kind: fe.kind };
  if (fe.param !== undefined) metadata.field = fe.param;
  const modelMissing = fe.kind === 'not_found' && fe.param === 'model';
  if (modelMissing && facts.availableModels) metadata.available_models = facts.availableModels.join(',');
  details.push(packed('ErrorInfo', ErrorInfo.encode({ reason: (fe.code ?? fe.kind).toUpperCase(), domain: DOMAIN, metadata }).finish()));
  if ((fe.kind === 'invalid_request' || fe.kind === 'context_length_exceeded') && fe.param !== undefined) {
    details.push(packed('BadRequest', BadRequest.encode({ fieldViolations: [{ field: fe.param, description: fe.message, reason: (fe.code ?? fe.kind).toUpperCase() }] }).finish()));
  }
  if (modelMissing) {
    const description = facts.availableModels ? `served models: ${facts.availableModels.join(', ')}` : '';
    const name = /'([^']*)'/.exec(fe.message)?.[1] ?? '';
    details.push(packed('ResourceInfo', ResourceInfo.encode({ resourceType: 'model', resourceName: name, owner: '', description }).finish()));
  }
  const delay = retryDelayS(fe);
  if (delay !== undefined) {
    const seconds = Math.floor(delay);
    details.push(packed('RetryInfo', RetryInfo.encode({ retryDelay: { seconds, nanos: Math.round((delay - seconds) * 1e9) } }).finish()));
  }
  return { code: fe.grpcStatus, message: fe.message, details };
}

/** The error to hand grpc-js (callback(err) or call.emit('error', err)). */
export function toPublicServiceError(err: unknown, facts: ErrorFacts = {}): ServerErrorResponse {
  const fe = asFleetError(err);
  const metadata = new Metadata();
  for (const [k, v] of grpcErrorMetadata(fe)) metadata.set(k, v);
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode(statusDetails(fe, facts)).finish()));
  return Object.assign(new Error(fe.message), { code: fe.grpcStatus, details: fe.message, metadata });
}
