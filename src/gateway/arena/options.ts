/** Gateway flags of the arena (spread into `gatewayOptions`). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { intOption, stringOption } from '../../common/config';

export const DEFAULT_ARENA_DB = join(homedir(), '.cache', 'fleetchat', 'arena.db');

export const arenaOptions = {
  db: stringOption({
    flag: '--db',
    description: 'arena database: a SQLite file (:memory: for a throwaway one) or postgres://user@host/db for several gateways (password from PGPASSWORD or the URL)',
    default: DEFAULT_ARENA_DB,
    defaultLabel: '~/.cache/fleetchat/arena.db',
  }),
  judgeSecret: stringOption({
    flag: '--judge-secret',
    description: 'secret behind judge pseudonyms and session cookies (>= 16 characters); empty = a random one kept in <db>.judge-secret (SQLite) or in the database (PostgreSQL)',
    default: '',
  }),
  arenaSessionRate: intOption({ flag: '--arena-session-rate', description: 'arena writes (battles, messages, answers, votes) a minute per session; 0 = unlimited', default: 60, min: 0 }),
  arenaJudgeRate: intOption({ flag: '--arena-judge-rate', description: 'arena writes a minute per client address (judge); 0 = unlimited', default: 600, min: 0 }),
};
