/** Reading client-node errors: the HTTP code and the API server's own message (`... is invalid: spec.x: ...`). */
import { ApiException } from '@kubernetes/client-node';

export function httpCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export const isConflict = (err: unknown): boolean => httpCode(err) === 409;
export const isNotFound = (err: unknown): boolean => httpCode(err) === 404;

export function kubeMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        return `HTTP ${err.code}: ${body.slice(0, 500)}`;
      }
    }
    const message = parsed && typeof parsed === 'object' && 'message' in parsed ? String((parsed).message) : undefined;
    return message ?? `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}
