/** Opens the arena for a gateway: the SQLite store at `--db` (migrated) and the judge-pseudonym secret. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../common/log';
import type { ArenaStore } from '../../arena/store';
import { SqliteArenaStore } from '../../arena/sqlite/sqlite-store';
import type { GatewayContext } from '../context';
import { loadJudgeSecret } from './judge-secret';
import { registerArenaRoutes } from './routes';

export interface ArenaConfig {
  db: string;
  judgeSecret: string;
}

export interface OpenArena {
  store: ArenaStore;
  register(app: FastifyInstance, ctx: GatewayContext): Promise<void>;
  close(): Promise<void>;
}

export async function openArena(config: ArenaConfig, logger: Logger): Promise<OpenArena> {
  const judgeSecret = loadJudgeSecret(config.judgeSecret, config.db);
  const store = await SqliteArenaStore.open({ path: config.db });
  logger.info({ db: config.db, schemaVersion: store.migration.to, migrationsApplied: store.migration.applied }, 'arena database open');
  return {
    store,
    register: (app, ctx) => registerArenaRoutes(app, { ctx, store, judgeSecret }),
    close: () => store.close(),
  };
}
