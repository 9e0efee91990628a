import { Metadata, status } from '@grpc/grpc-js';
import { FleetError, asFleetError, fromGrpcError, grpcErrorMetadata, toOpenAIError, type ErrorKind } from '../../src/common/errors';
import { toServiceError } from '../../src/common/grpc/status';

const table: Array<[ErrorKind, status, number, string]> = [
  ['invalid_request', status.INVALID_ARGUMENT, 400, 'invalid_request_error'],
  ['context_length_exceeded', status.OUT_OF_RANGE, 400, 'invalid_request_error'],
  ['unauthenticated', status.UNAUTHENTICATED, 401, 'authentication_error'],
  ['permission_denied', status.PERMISSION_DENIED, 403, 'permission_error'],
  ['not_found', status.NOT_FOUND, 404, 'not_found_error'],
  ['payload_too_large', status.RESOURCE_EXHAUSTED, 413, 'invalid_request_error'],
  ['overloaded', status.RESOURCE_EXHAUSTED, 429, 'rate_limit_error'],
  ['unavailable', status.UNAVAILABLE, 503, 'service_unavailable_error'],
  ['deadline_exceeded', status.DEADLINE_EXCEEDED, 504, 'timeout_error'],
  ['generation_failed', status.INTERNAL, 500, 'server_error'],
  ['unimplemented', status.UNIMPLEMENTED, 501, 'invalid_request_error'],
  ['internal', status.INTERNAL, 500, 'server_error'],
];

describe('error model', () => {
  it.each(table)('%s maps to gRPC %i, HTTP %i and OpenAI type %s', (kind, grpc, http, type) => {
    const err = new FleetError(kind, 'boom', { param: 'messages' });
    expect(err.grpcStatus).toBe(grpc);
    expect(err.httpStatus).toBe(http);
    expect(toOpenAIError(err)).toEqual({
      error: { message: 'boom', type, param: 'messages', code: kind === 'context_length_exceeded' ? 'context_length_exceeded' : null },
    });
  });

  it.each(table)('%s survives a trip through gRPC metadata', (kind) => {
    const original = new FleetError(kind, 'details here', { param: 'p', code: 'c', retryAfterS: 3 });
    const wire = toServiceError(original);
    expect(wire.code).toBe(original.grpcStatus);
    const back = fromGrpcError({ code: wire.code, details: wire.details, metadata: wire.metadata });
    expect(back.kind).toBe(kind);
    expect(back.message).toBe('details here');
    expect(back.param).toBe('p');
    expect(back.code).toBe('c');
    expect(back.retryAfterS).toBe(3);
  });

  it('maps bare gRPC status codes from foreign servers', () => {
    expect(fromGrpcError({ code: status.RESOURCE_EXHAUSTED, details: 'x' }).kind).toBe('overloaded');
    expect(fromGrpcError({ code: status.NOT_FOUND, details: 'x' }).httpStatus).toBe(404);
    expect(fromGrpcError({ code: status.UNAVAILABLE, details: 'x' }).httpStatus).toBe(503);
    expect(fromGrpcError({ code: status.DEADLINE_EXCEEDED, details: 'x' }).kind).toBe('deadline_exceeded');
    expect(fromGrpcError({ code: 999, details: 'x' }).kind).toBe('internal');
  });

  it('ignores a forged kind in metadata that is not a known kind', () => {
    const md = new Metadata();
    md.set('fleet-error-kind', 'nonsense');
    expect(fromGrpcError({ code: status.NOT_FOUND, details: 'x', metadata: md }).kind).toBe('not_found');
  });

  it('wraps unknown throwables as internal errors without losing the message', () => {
    expect(asFleetError(new TypeError('bad')).kind).toBe('internal');
    expect(asFleetError(new TypeError('bad')).message).toBe('bad');
    expect(asFleetError('str').message).toBe('str');
    expect(toOpenAIError(new Error('oops')).error.type).toBe('server_error');
  });

  it('only lists metadata that is set', () => {
    expect(grpcErrorMetadata(new FleetError('not_found', 'x'))).toEqual([['fleet-error-kind', 'not_found']]);
  });
});
