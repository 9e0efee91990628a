/**
 * Judges are stored under a pseudonym: a keyed hash (HMAC-SHA-256 with a deployment secret) of their IP address or
 * user id, so votes by one judge can be grouped (FastChat's `judge` field, vote limits, outlier checks) without
 * the store ever holding the address itself.
 */
import { createHmac } from 'node:crypto';
import { FleetError } from '../common/errors';

const PREFIX = 'arena_user_';

/** Name of the judge secret among a store's shared secrets (PostgreSQL; `arena migrate` copies a SQLite file's there). */
export const JUDGE_SECRET_NAME = 'judge-pseudonyms';

export function pseudonymousJudgeId(ipOrUserId: string, secret: string): string {
  if (secret.length < 16) throw new FleetError('invalid_request', 'the judge-id secret must have at least 16 characters', { param: 'secret' });
  const digest = createHmac('sha256', secret).update(ipOrUserId, 'utf8').digest('hex');
  return `${PREFIX}${digest.slice(0, 24)}`;
}
