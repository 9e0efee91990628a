/**
 * One benchmark run in its own process (so peak RSS is that run's): runs a data job with the given flags and
 * prints `{"elapsedMs", "peakRssMb", "records", "written"}` as its last stdout line.
 */
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { CLEAN_SHAREGPT_OPTIONS, runCleanShareGpt } from '../../src/jobs/data/commands/clean-sharegpt';
import { runSplitLong, SPLIT_LONG_OPTIONS } from '../../src/jobs/data/commands/split-long';
import type { PipelineSummary } from '../../src/jobs/data/pipeline';

async function main(): Promise<void> {
  const [job, ...argv] = process.argv.slice(2);
  const io = { logger: silentLogger(), stderr: process.stderr };
  const started = Date.now();
  let summary: PipelineSummary;
  if (job === 'clean') summary = await runCleanShareGpt(parseConfig(CLEAN_SHAREGPT_OPTIONS, argv), io);
  else if (job === 'split') summary = await runSplitLong(parseConfig(SPLIT_LONG_OPTIONS, argv), io);
  else throw new Error(`unknown job ${job}`);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ elapsedMs: Date.now() - started, peakRssMb, records: summary.records, written: summary.written })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
