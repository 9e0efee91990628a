/** Errors of the `openai` client mapped once to FleetError kinds (so callers never match on message text). */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { FleetError, type ErrorKind } from '../../common/errors';

function kindOfStatus(status: number): ErrorKind {
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 408) return 'deadline_exceeded';
  if (status === 409) return 'conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'overloaded';
  if (status === 503 || status === 502) return 'unavailable';
  return status >= 500 ? 'generation_failed' : 'invalid_request';
}

/** Wraps what the chat endpoint threw; `endpoint` names the base URL in the message. */
export function fromOpenAIError(err: unknown, endpoint: string): FleetError {
  if (err instanceof FleetError) return err;
  if (err instanceof APIUserAbortError) return new FleetError('cancelled', `request to ${endpoint} was cancelled`, { cause: err });
  if (err instanceof APIConnectionTimeoutError) {
    return new FleetError('deadline_exceeded', `request to ${endpoint} timed out`, { cause: err });
  }
  if (err instanceof APIConnectionError) {
    return new FleetError('unavailable', `cannot reach ${endpoint}: ${err.message}`, { cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    return new FleetError(kindOfStatus(err.status), `${endpoint} answered ${err.status}: ${err.message}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new FleetError('internal', `calling ${endpoint}: ${message}`, { cause: err });
}
