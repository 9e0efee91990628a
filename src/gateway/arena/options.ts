/** Gateway flags of the arena (spread into `gatewayOptions`). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stringOption } from '../../common/config';

export const DEFAULT_ARENA_DB = join(homedir(), '.cache', 'fleetchat', 'arena.db');

export const arenaOptions = {
  db: stringOption({ flag: '--db', description: 'arena SQLite database (conversations, battles, votes); :memory: for a throwaway one', default: DEFAULT_ARENA_DB, defaultLabel: '~/.cache/fleetchat/arena.db' }),
  judgeSecret: stringOption({
    flag: '--judge-secret',
    description: 'secret that turns client addresses into judge pseudonyms (>= 16 characters); empty = a random one kept in <db>.judge-secret',
    default: '',
  }),
};
