/** SQLite failures as FleetErrors: a busy or locked database is `unavailable` (retry), a broken constraint `conflict`. */
import { SqliteError } from 'better-sqlite3';
import { FleetError } from '../../common/errors';

export function toStoreError(err: unknown): unknown {
  if (err instanceof FleetError || !(err instanceof SqliteError)) return err;
  if (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED')) {
    return new FleetError('unavailable', 'the arena database is busy: retry', { retryAfterS: 1, cause: err });
  }
  if (err.code.startsWith('SQLITE_CONSTRAINT')) return new FleetError('conflict', `arena database constraint: ${err.message}`, { cause: err });
  return new FleetError('internal', `arena database error (${err.code}): ${err.message}`, { cause: err });
}
