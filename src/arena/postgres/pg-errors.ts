/** PostgreSQL failures as FleetErrors: lost connections and serialisation failures are `unavailable` (retry). */
import { DatabaseError } from 'pg';
import { FleetError } from '../../common/errors';

const RETRYABLE = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006']);

export function toPgError(err: unknown): unknown {
  if (err instanceof FleetError) return err;
  if (err instanceof DatabaseError) {
    const code = err.code ?? '';
    if (RETRYABLE.has(code)) return new FleetError('unavailable', `the arena database is busy (${code}): retry`, { retryAfterS: 1, cause: err });
    if (code.startsWith('23')) return new FleetError('conflict', `arena database constraint: ${err.message}`, { cause: err });
    return new FleetError('internal', `arena database error (${code}): ${err.message}`, { cause: err });
  }
  if (err instanceof Error) return new FleetError('unavailable', `the arena database cannot be reached: ${err.message}`, { retryAfterS: 1, cause: err });
  return err;
}

/** The URL with its password hidden, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

export function isPostgresUrl(db: string): boolean {
  return db.startsWith('postgres://') || db.startsWith('postgresql://');
}
