/** API keys, shared by both front doors: `Authorization: Bearer <key>` (HTTP header or gRPC metadata). */
import { timingSafeEqual } from 'node:crypto';
import { FleetError } from '../common/errors';

function keyMatches(given: string, keys: readonly string[]): boolean {
  const a = Buffer.from(given);
  return keys.some((k) => {
    const b = Buffer.from(k);
    return a.length === b.length && timingSafeEqual(a, b);
  });
}

/**
 * Throws FleetError('unauthenticated') unless `authorization` is `Bearer <one of keys>`; no keys = no auth.
 * `where` tells the client how to send the key ("header" for HTTP, "metadata" for gRPC).
 */
export function checkApiKey(authorization: string | undefined, keys: readonly string[], where: 'header' | 'metadata'): void {
  if (keys.length === 0) return;
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (m && keyMatches(m[1].trim(), keys)) return;
  const how = where === 'header' ? 'send "Authorization: Bearer <key>"' : "send the metadata 'authorization: Bearer <key>'";
  throw new FleetError('unauthenticated', m ? 'Incorrect API key provided' : `Missing API key: ${how}`, { code: 'invalid_api_key' });
}
