/**
 * Opens the arena store named by `--db`: a `postgres://` / `postgresql://` URL opens PostgreSQL (several gateways
 * share it), anything else is a SQLite file (`:memory:` for a throwaway one).
 */
import type { MigrationResult } from './sqlite/migrations';
import { SqliteArenaStore } from './sqlite/sqlite-store';
import { PostgresArenaStore } from './postgres/pg-store';
import { isPostgresUrl, redactUrl } from './postgres/pg-errors';
import type { ArenaStore } from './store';

export interface OpenedStore {
  store: ArenaStore;
  backend: 'sqlite' | 'postgres';
  /** The database as it may be logged (a URL's password hidden). */
  label: string;
  migration: MigrationResult;
}

export async function openArenaStore(db: string): Promise<OpenedStore> {
  if (isPostgresUrl(db)) {
    const store = await PostgresArenaStore.open({ url: db });
    return { store, backend: 'postgres', label: redactUrl(db), migration: store.migration };
  }
  const store = await SqliteArenaStore.open({ path: db });
  return { store, backend: 'sqlite', label: db, migration: store.migration };
}

export { isPostgresUrl };
