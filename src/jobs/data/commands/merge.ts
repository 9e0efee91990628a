/** `fleetchat jobs merge`: concatenates record files (fastchat/data/merge.py), streaming. */
import { InvalidArgumentError } from 'commander';
import { stringOption, type ConfigOf, type OptionSpec } from '../../../common/config';
import { FleetError } from '../../../common/errors';
import { basePipeline, OUTPUT_OPTIONS, outputPlan, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline, type PipelineSummary } from '../pipeline';

/** `--in-file a.json b.json` (space separated, as FastChat's nargs="+"), repeatable. */
export function filesOption(spec: { flag: string; description: string }): OptionSpec<string[]> {
  return {
    ...spec,
    placeholder: '<paths...>',
    default: [],
    parse: (raw, previous) => {
      if (raw.trim() === '') throw new InvalidArgumentError('empty file name');
      return [...previous, raw];
    },
  };
}

export const MERGE_OPTIONS = {
  inFile: filesOption({ flag: '--in-file', description: 'input files, in order (alias --in)' }),
  outFile: stringOption({ flag: '--out-file', description: 'output file (alias --out)', default: 'merged.json', placeholder: '<path>' }),
  ...OUTPUT_OPTIONS,
  ...RUN_OPTIONS,
};

export async function runMerge(config: ConfigOf<typeof MERGE_OPTIONS>, io: JobIo): Promise<PipelineSummary> {
  if (config.inFile.length === 0) throw new FleetError('invalid_request', '--in-file needs at least one file', { param: 'in-file' });
  const plan = outputPlan(config.outFile, config);
  return runPipeline({ ...basePipeline('merge', config, io), ...plan, inFiles: config.inFile, range: {}, task: { task: 'pass-through', format: plan.outFormat } });
}
