/**
 * The live leaderboard of an arena store (for the gateway's leaderboard page): the store's votes, read page by
 * page without conversations, rated like `jobs elo` does by default — anonymous battles only, self-battles left
 * out — with online Elo, anchored Bradley-Terry and bootstrap intervals.
 */
import { parseBattleRecord } from './battle-log';
import { BattleTableBuilder, type BattleTable } from './rating/battle-table';
import { computeLeaderboard, type Leaderboard, type LeaderboardOptions } from './rating/leaderboard';
import { battleStyle } from './rating/style/style-features';
import type { ArenaStore } from './store';

export interface StoreLeaderboardOptions extends LeaderboardOptions {
  /** Also rate battles whose judge saw the model names. Default false, as FastChat. */
  includeNamed?: boolean;
  /** Also style-controlled ratings (reads the conversations to measure the answers). */
  styleControl?: boolean;
}

export interface StoreLeaderboard {
  board: Leaderboard;
  table: BattleTable;
}

export async function storeLeaderboard(store: ArenaStore, options: StoreLeaderboardOptions = {}): Promise<StoreLeaderboard> {
  const style = options.styleControl === true;
  const builder = new BattleTableBuilder(style);
  for await (const record of store.exportBattleLog({ anonyOnly: options.includeNamed !== true, withoutConversations: !style })) {
    const parsed = parseBattleRecord(record);
    if (parsed.ok && parsed.record.modelA !== parsed.record.modelB) builder.add(style ? { ...parsed.record, style: battleStyle(record) } : parsed.record);
  }
  const table = builder.build();
  return { board: computeLeaderboard(table, options), table };
}
