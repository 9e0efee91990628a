/**
 * Upstream HTTP failures as FleetErrors (and so as gRPC statuses): 429 -> RESOURCE_EXHAUSTED with the upstream's
 * Retry-After, 502/503 -> UNAVAILABLE (retry info), 504/408 -> DEADLINE_EXCEEDED, other 5xx -> INTERNAL, 400 ->
 * INVALID_ARGUMENT (or OUT_OF_RANGE for a context-length message), 404 -> NOT_FOUND, 401/403 -> UNAVAILABLE (the
 * adapter's key is wrong: not the caller's fault). A connection failure is UNAVAILABLE and marks the upstream down.
 */
import { FleetError } from '../../common/errors';
import { UpstreamConnectionError, UpstreamHttpError } from './sse';

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

const CONTEXT_LENGTH = /context length|context window|maximum context|too many tokens|exceed(s|ed)? .*context|n_ctx/i;

/** True when the error says the upstream could not be reached (or dropped the connection). */
export function isConnectionFailure(err: unknown): boolean {
  return err instanceof UpstreamConnectionError;
}

export function fromUpstreamError(err: unknown, upstream: string): FleetError {
  if (err instanceof FleetError) return err;
  if (err instanceof UpstreamConnectionError) return new FleetError('unavailable', `upstream ${upstream}: ${err.message}`, { retryAfterS: 1, cause: err });
  // The caller's cancellation is handled before; an abort here is the upstream timeout (its reason, a DOMException:
  // told by name, which holds in any realm).
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return new FleetError('deadline_exceeded', `upstream ${upstream} did not finish within the upstream timeout`, { cause: err });
  if (err instanceof UpstreamHttpError) {
    const status = err.status;
    const retryAfterS = retryAfterSeconds(err.retryAfter);
    const message = `upstream ${upstream}: ${err.message}`;
    if (status === 429) return new FleetError('overloaded', message, { retryAfterS: retryAfterS ?? 1, code: 'upstream_rate_limited', cause: err });
    if (status === 502 || status === 503) return new FleetError('unavailable', message, { retryAfterS: retryAfterS ?? 1, cause: err });
    if (status === 504 || status === 408) return new FleetError('deadline_exceeded', message, { cause: err });
    if (status >= 500) return new FleetError('generation_failed', message, { cause: err });
    if (status === 401 || status === 403) return new FleetError('unavailable', `upstream ${upstream} refused the adapter's credentials (HTTP ${status})`, { cause: err });
    if (status === 404) return new FleetError('not_found', message, { cause: err });
    if (status === 413) return new FleetError('payload_too_large', message, { cause: err });
    if (CONTEXT_LENGTH.test(message)) return new FleetError('context_length_exceeded', message, { code: 'context_length_exceeded', cause: err });
    return new FleetError('invalid_request', message, { cause: err });
  }
  if (err instanceof SyntaxError) return new FleetError('generation_failed', `upstream ${upstream} sent an event that is not JSON: ${err.message}`, { cause: err });
  if (err instanceof Error) return new FleetError('generation_failed', `upstream ${upstream}: ${err.message}`, { cause: err });
  return new FleetError('generation_failed', `upstream ${upstream}: ${String(err)}`);
}
