/**
 * Where `jobs elo` reads battles from: a battle-log file, or the votes of an arena database — a SQLite file or a
 * postgres:// URL — exported on the fly.
 */
import { existsSync } from 'node:fs';
import { readBattleLog, type BattleLogItem } from '../../arena/battle-log-file';
import { isPostgresUrl, openArenaStore } from '../../arena/open-store';
import { FleetError } from '../../common/errors';

export type BattleSourceSpec = { kind: 'file'; path: string } | { kind: 'db'; path: string };

/** Exactly one of --battles / --db. */
export function battleSourceSpec(battles: string | undefined, db: string | undefined): BattleSourceSpec {
  if (battles !== undefined && db !== undefined) throw new FleetError('invalid_request', 'give either --battles or --db, not both', { param: 'battles' });
  if (battles !== undefined) return { kind: 'file', path: battles };
  if (db !== undefined) return { kind: 'db', path: db };
  throw new FleetError('invalid_request', 'give the battles to rate: --battles FILE or --db PATH', { param: 'battles' });
}

async function* fromDatabase(path: string, withConversations: boolean): AsyncGenerator<BattleLogItem> {
  if (!isPostgresUrl(path) && !existsSync(path)) throw new FleetError('invalid_request', `no arena database at ${path}`, { param: 'db' });
  const { store } = await openArenaStore(path);
  try {
    let n = 0;
    for await (const record of store.exportBattleLog({ withoutConversations: !withConversations })) {
      yield { kind: 'value', value: record, location: `vote ${n++}` };
    }
  } finally {
    await store.close();
  }
}

/** `withConversations`: read the answers too (style control measures them). */
export function readBattleSource(spec: BattleSourceSpec, withConversations = false): AsyncIterable<BattleLogItem> {
  if (spec.kind === 'db') return fromDatabase(spec.path, withConversations);
  if (!existsSync(spec.path)) throw new FleetError('invalid_request', `no battle log at ${spec.path}`, { param: 'battles' });
  return readBattleLog(spec.path);
}
