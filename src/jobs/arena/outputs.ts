/** Writes the results of `jobs elo` into the output directory (the only file I/O of the job besides its input). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { leaderboardPlots } from '../../arena/plot/leaderboard-plots';
import type { BattleTable } from '../../arena/rating/battle-table';
import type { Leaderboard } from '../../arena/rating/leaderboard';
import { leaderboardMarkdown } from '../../arena/rating/markdown';
import { FleetError } from '../../common/errors';
import { writeFileAtomically } from '../io/atomic-file';
import type { DropReport } from './battle-filter';

export const OUTPUT_FILES = {
  leaderboard: 'leaderboard.json',
  markdown: 'leaderboard.md',
  report: 'report.json',
  ratingsPlot: 'ratings.svg',
  winFractionPlot: 'win-fraction.svg',
  battleCountPlot: 'battle-counts.svg',
  styleRatingsPlot: 'ratings-style-control.svg',
} as const;

export interface EloOutputs {
  dir: string;
  table: BattleTable;
  board: Leaderboard;
  report: DropReport & { input: string; warnings: string[] };
}

export async function writeEloOutputs(outputs: EloOutputs): Promise<string[]> {
  try {
    await mkdir(outputs.dir, { recursive: true });
  } catch (err) {
    throw new FleetError('invalid_request', `cannot create output directory ${outputs.dir}: ${(err as Error).message}`, { param: 'out', cause: err });
  }
  const plots = leaderboardPlots(outputs.table, outputs.board);
  const files: Array<[string, string]> = [
    [OUTPUT_FILES.leaderboard, `${JSON.stringify(outputs.board, null, 2)}\n`],
    [OUTPUT_FILES.markdown, leaderboardMarkdown(outputs.board)],
    [OUTPUT_FILES.report, `${JSON.stringify(outputs.report, null, 2)}\n`],
    [OUTPUT_FILES.ratingsPlot, plots.ratings],
    [OUTPUT_FILES.winFractionPlot, plots.winFraction],
    [OUTPUT_FILES.battleCountPlot, plots.battleCounts],
    ...(plots.ratingsStyle ? [[OUTPUT_FILES.styleRatingsPlot, plots.ratingsStyle] as [string, string]] : []),
  ];
  const written: string[] = [];
  // Each file through its own exclusive temporary file, fsync and rename: a reader never sees half a leaderboard,
  // and two jobs writing the same directory never share a temporary file.
  for (const [name, content] of files) {
    const path = join(outputs.dir, name);
    await writeFileAtomically(path, content);
    written.push(path);
  }
  return written;
}
