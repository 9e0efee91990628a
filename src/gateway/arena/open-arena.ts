/**
 * Opens the arena for a gateway: the store named by `--db` (SQLite file or PostgreSQL URL, migrated) and the
 * secret behind judge pseudonyms and session cookies — given, or kept next to a SQLite file, or shared by every
 * replica through the PostgreSQL database.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../common/log';
import { openArenaStore } from '../../arena/open-store';
import type { ArenaStore } from '../../arena/store';
import type { GatewayContext } from '../context';
import { JUDGE_SECRET_NAME, loadJudgeSecret } from './judge-secret';
import { registerArenaRoutes } from './routes';

export interface ArenaConfig {
  db: string;
  judgeSecret: string;
  arenaSessionRate?: number;
  arenaJudgeRate?: number;
}

export interface OpenArena {
  store: ArenaStore;
  register(app: FastifyInstance, ctx: GatewayContext): Promise<void>;
  close(): Promise<void>;
}

export async function openArena(config: ArenaConfig, logger: Logger): Promise<OpenArena> {
  const opened = await openArenaStore(config.db);
  const { store } = opened;
  let judgeSecret: string;
  try {
    judgeSecret = opened.backend === 'postgres' && config.judgeSecret === ''
      ? await store.sharedSecret(JUDGE_SECRET_NAME)
      : loadJudgeSecret(config.judgeSecret, config.db);
  } catch (err) {
    await store.close();
    throw err;
  }
  logger.info({ db: opened.label, backend: opened.backend, schemaVersion: opened.migration.to, migrationsApplied: opened.migration.applied }, 'arena database open');
  return {
    store,
    register: (app, ctx) => registerArenaRoutes(app, {
      ctx, store, judgeSecret, sessionRatePerMinute: config.arenaSessionRate, judgeRatePerMinute: config.arenaJudgeRate,
    }),
    close: () => store.close(),
  };
}
