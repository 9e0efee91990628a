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

/**
 * Admin paths (exports of every user's data) take only an admin key, never an API key: `permission_denied` when
 * the gateway has no admin key, `unauthenticated` for a missing or wrong one.
 */
export function checkAdminKey(authorization: string | undefined, adminKeys: readonly string[], path: string): void {
  if (adminKeys.length === 0) {
    throw new FleetError('permission_denied', `${path} exports every user's data: start the gateway with --admin-keys to enable it`, { code: 'admin_disabled' });
  }
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (m && keyMatches(m[1].trim(), adminKeys)) return;
  throw new FleetError('unauthenticated', `${path} needs an admin key: send "Authorization: Bearer <admin key>"`, { code: 'invalid_admin_key' });
}
