/** `fleetchat jobs get-stats`: counts, turns, lengths and a length histogram (fastchat/data/get_stats.py). */
import { writeFile } from 'node:fs/promises';
import { optionalStringOption, type ConfigOf } from '../../../common/config';
import { basePipeline, IN_FILE_OPTIONS, RANGE_OPTIONS, requireInFile, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline } from '../pipeline';
import { StatsAccumulator, type StatsSummary } from '../stats/stats-summary';

export const GET_STATS_OPTIONS = {
  ...IN_FILE_OPTIONS,
  ...RANGE_OPTIONS,
  modelNameOrPath: optionalStringOption({ flag: '--model-name-or-path', description: 'count tokens of this model directory instead of characters (alias --model-path)', placeholder: '<dir>' }),
  outFile: optionalStringOption({ flag: '--out-file', description: 'also write the statistics as JSON here', placeholder: '<path>' }),
  reportFile: optionalStringOption({ flag: '--report-file', description: 'report of records that could not be counted (JSON Lines)', placeholder: '<path>' }),
  ...RUN_OPTIONS,
};

export async function runGetStats(config: ConfigOf<typeof GET_STATS_OPTIONS>, io: JobIo): Promise<StatsSummary> {
  const modelDir = config.modelNameOrPath;
  const stats = new StatsAccumulator(modelDir ? 'tokens' : 'characters');
  await runPipeline({
    ...basePipeline('get-stats', config, io),
    inFiles: [requireInFile(config.inFile)],
    outFormat: 'jsonl',
    reportFile: config.reportFile,
    range: { begin: config.begin, end: config.end },
    task: { task: 'get-stats', chat: modelDir ? { modelDir, convTemplate: '' } : undefined },
    observe: (result) => {
      if (result.stats) stats.add(result.stats);
    },
  });
  const summary = stats.summary();
  if (config.outFile !== undefined) await writeFile(config.outFile, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
