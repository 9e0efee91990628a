/**
 * `fleetchat jobs elo`: streams FastChat battles from a file or an arena database, keeps the ones the ratings may
 * use (anonymous by default, no self-battles, valid records), computes online Elo and the anchored Bradley-Terry
 * leaderboard with bootstrap intervals, and writes leaderboard.json / leaderboard.md / report.json and three SVG
 * plots. A plain CLI over files, so it runs the same on a laptop and as a Kubernetes Job.
 */
import type { Logger } from '../../common/log';
import { BattleTableBuilder } from '../../arena/rating/battle-table';
import { computeLeaderboard, type Leaderboard } from '../../arena/rating/leaderboard';
import { FleetError } from '../../common/errors';
import { classifyBattle, DropCounter, type DropReport } from './battle-filter';
import { battleSourceSpec, readBattleSource } from './battle-source';
import type { EloJobConfig } from './elo-config';
import { writeEloOutputs } from './outputs';
import { battleStyle } from '../../arena/rating/style/style-features';
import type { ValidBattleRecord } from '../../arena/battle-log';

function recordStyle(record: ValidBattleRecord): Float64Array | undefined {
  return battleStyle({ conversation_a: record.conversationA, conversation_b: record.conversationB, conv_metadata: record.extra.conv_metadata });
}

export interface EloJobResult {
  board: Leaderboard;
  report: DropReport;
  files: string[];
}

const PROGRESS_EVERY = 100_000;

export async function runEloJob(config: EloJobConfig, logger: Logger): Promise<EloJobResult> {
  if (config.out === undefined) throw new FleetError('invalid_request', 'give the output directory: --out DIR', { param: 'out' });
  const spec = battleSourceSpec(config.battles, config.db);
  const builder = new BattleTableBuilder(config.styleControl);
  const drops = new DropCounter();
  for await (const item of readBattleSource(spec, config.styleControl)) {
    const classified = classifyBattle(item, config.includeNamed);
    drops.count(item.location, classified);
    if ('keep' in classified) builder.add(config.styleControl ? { ...classified.keep, style: recordStyle(classified.keep) } : classified.keep);
    if (drops.recordsRead % PROGRESS_EVERY === 0) logger.info({ read: drops.recordsRead, kept: builder.size }, 'reading battles');
  }
  const report = drops.result();
  logger.info({ read: report.records_read, kept: report.battles_used, dropped: report.dropped }, 'battles read');
  const table = builder.build();
  const board = computeLeaderboard(table, {
    anchor: config.anchor,
    anchorRequired: config.anchor !== undefined,
    bootstrapRounds: config.bootstrap,
    seed: config.seed,
    styleControl: config.styleControl,
  });
  for (const warning of board.warnings) logger.warn(warning);
  const files = await writeEloOutputs({ dir: config.out, table, board, report: { input: spec.path, ...report, warnings: board.warnings } });
  logger.info({ models: board.models.length, battles: board.battles, out: config.out }, 'leaderboard written');
  return { board, report, files };
}
