/**
 * One error model for every component. A FleetError has a `kind`; the kind maps once to a gRPC
 * status code, once to an HTTP status and once to OpenAI's error body (`{error: {message, type, param, code}}`).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

export type ErrorKind =
  | 'invalid_request'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'context_length_exceeded'
  | 'overloaded'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'cancelled'
  | 'generation_failed'
  | 'unimplemented'
  | 'internal';

interface KindMapping {
  grpc: GrpcStatus;
  http: number;
  openaiType: string;
}

const MAPPINGS: Record<ErrorKind, KindMapping> = {
  invalid_request: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, openaiType: 'invalid_request_error' },
  context_length_exceeded: { grpc: GrpcStatus.OUT_OF_RANGE, http: 400, openaiType: 'invalid_request_error' },
  unauthenticated: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, openaiType: 'authentication_error' },
  permission_denied: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403, openaiType: 'permission_error' },
  not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404, openaiType: 'not_found_error' },
  conflict: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, openaiType: 'conflict_error' },
  payload_too_large: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, openaiType: 'invalid_request_error' },
  overloaded: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, openaiType: 'rate_limit_error' },
  unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503, openaiType: 'service_unavailable_error' },
  deadline_exceeded: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504, openaiType: 'timeout_error' },
  cancelled: { grpc: GrpcStatus.CANCELLED, http: 499, openaiType: 'cancelled_error' },
  generation_failed: { grpc: GrpcStatus.INTERNAL, http: 500, openaiType: 'server_error' },
  unimplemented: { grpc: GrpcStatus.UNIMPLEMENTED, http: 501, openaiType: 'invalid_request_error' },
  internal: { grpc: GrpcStatus.INTERNAL, http: 500, openaiType: 'server_error' },
};

/** The inverse mapping used when a gRPC error crosses into another component. */
const FROM_GRPC: Partial<Record<GrpcStatus, ErrorKind>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'invalid_request',
  [GrpcStatus.FAILED_PRECONDITION]: 'invalid_request',
  [GrpcStatus.OUT_OF_RANGE]: 'context_length_exceeded',
  [GrpcStatus.UNAUTHENTICATED]: 'unauthenticated',
  [GrpcStatus.PERMISSION_DENIED]: 'permission_denied',
  [GrpcStatus.NOT_FOUND]: 'not_found',
  [GrpcStatus.ALREADY_EXISTS]: 'conflict',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'overloaded',
  [GrpcStatus.UNAVAILABLE]: 'unavailable',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'deadline_exceeded',
  [GrpcStatus.CANCELLED]: 'cancelled',
  [GrpcStatus.UNIMPLEMENTED]: 'unimplemented',
  [GrpcStatus.INTERNAL]: 'internal',
  [GrpcStatus.UNKNOWN]: 'internal',
  [GrpcStatus.DATA_LOSS]: 'internal',
  [GrpcStatus.ABORTED]: 'unavailable',
};

export interface FleetErrorOptions {
  /** The request field the error is about (OpenAI's `param`). */
  param?: string;
  /** A machine-readable code (OpenAI's `code`), e.g. `model_not_found`. */
  code?: string;
  /** Seconds a client should wait before retrying (429 / 503). */
  retryAfterS?: number;
  cause?: unknown;
}

export class FleetError extends Error {
  readonly kind: ErrorKind;
  readonly param?: string;
  readonly code?: string;
  readonly retryAfterS?: number;

  constructor(kind: ErrorKind, message: string, options: FleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetError';
    this.kind = kind;
    this.param = options.param;
    this.code = options.code;
    this.retryAfterS = options.retryAfterS;
  }

  get grpcStatus(): GrpcStatus {
    return MAPPINGS[this.kind].grpc;
  }

  get httpStatus(): number {
    return MAPPINGS[this.kind].http;
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function grpcStatusOf(kind: ErrorKind): GrpcStatus {
  return MAPPINGS[kind].grpc;
}

export function httpStatusOf(kind: ErrorKind): number {
  return MAPPINGS[kind].http;
}

/** OpenAI's error body for an error of any type (unknown errors become `internal`). */
export function toOpenAIError(err: unknown): OpenAIErrorBody {
  const fe = asFleetError(err);
  return {
    error: {
      message: fe.message,
      type: MAPPINGS[fe.kind].openaiType,
      param: fe.param ?? null,
      code: fe.code ?? (fe.kind === 'context_length_exceeded' ? 'context_length_exceeded' : null),
    },
  };
}

/** Metadata keys that carry FleetError details across gRPC. */
const META_KIND = 'fleet-error-kind';
const META_PARAM = 'fleet-error-param';
const META_CODE = 'fleet-error-code';
const META_RETRY = 'fleet-retry-after-s';

export interface GrpcErrorLike {
  code?: number;
  details?: string;
  message?: string;
  metadata?: { get(key: string): unknown[] } | undefined;
}

function metaString(meta: GrpcErrorLike['metadata'], key: string): string | undefined {
  const values = meta?.get(key);
  const first = values && values.length > 0 ? values[0] : undefined;
  return typeof first === 'string' ? first : undefined;
}

function isErrorKind(value: string | undefined): value is ErrorKind {
  return value !== undefined && Object.prototype.hasOwnProperty.call(MAPPINGS, value);
}

/** Rebuilds a FleetError from a gRPC client error (status code plus our metadata when present). */
export function fromGrpcError(err: GrpcErrorLike): FleetError {
  const metaKind = metaString(err.metadata, META_KIND);
  const code = typeof err.code === 'number' ? (err.code as GrpcStatus) : GrpcStatus.UNKNOWN;
  const kind: ErrorKind = isErrorKind(metaKind) ? metaKind : (FROM_GRPC[code] ?? 'internal');
  const retry = metaString(err.metadata, META_RETRY);
  return new FleetError(kind, err.details || err.message || 'gRPC call failed', {
    param: metaString(err.metadata, META_PARAM),
    code: metaString(err.metadata, META_CODE),
    retryAfterS: retry === undefined ? undefined : Number(retry),
    cause: err,
  });
}

/** Metadata pairs to attach to a gRPC error so the other side can rebuild the FleetError exactly. */
export function grpcErrorMetadata(err: FleetError): Array<[string, string]> {
  const pairs: Array<[string, string]> = [[META_KIND, err.kind]];
  if (err.param !== undefined) pairs.push([META_PARAM, err.param]);
  if (err.code !== undefined) pairs.push([META_CODE, err.code]);
  if (err.retryAfterS !== undefined) pairs.push([META_RETRY, String(err.retryAfterS)]);
  return pairs;
}

function isGrpcErrorLike(err: unknown): err is GrpcErrorLike & Error {
  return err instanceof Error && typeof (err as GrpcErrorLike).code === 'number' && 'details' in err;
}

/** Any thrown value as a FleetError: FleetErrors pass through, gRPC errors are mapped, the rest is internal. */
export function asFleetError(err: unknown): FleetError {
  if (err instanceof FleetError) return err;
  if (isGrpcErrorLike(err)) return fromGrpcError(err);
  if (err instanceof Error) return new FleetError('internal', err.message, { cause: err });
  return new FleetError('internal', String(err));
}
