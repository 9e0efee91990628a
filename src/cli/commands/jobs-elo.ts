/** `fleetchat jobs elo`: the arena leaderboard (online Elo + Bradley-Terry with bootstrap intervals) from battle logs. */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { ELO_JOB_SCHEMA } from '../../jobs/arena/elo-config';
import { runEloJob } from '../../jobs/arena/elo-job';
import { jobsCommand } from './jobs';

export function register(program: Command): void {
  const command = jobsCommand(program)
    .command('elo')
    .description('rate models from FastChat battle logs (--battles FILE) or the arena database (--db PATH) into --out DIR');
  addOptions(command, ELO_JOB_SCHEMA).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(ELO_JOB_SCHEMA, opts);
    const logger = createLogger({ level: config.logLevel, name: 'jobs-elo' });
    const { board, report, files } = await runEloJob(config, logger);
    const dropped = Object.entries(report.dropped).filter(([, n]) => n > 0).map(([reason, n]) => `${n} ${reason}`).join(', ');
    process.stdout.write(
      `rated ${board.models.length} models from ${board.battles} battles (${report.records_read} records read${dropped ? `; dropped ${dropped}` : ''})\n` +
      files.map((f) => `  ${f}\n`).join(''),
    );
  });
}
