/**
 * `fleetchat jobs filter-wrong-format | extract-single-round | extract-gpt4-only | optional-clean`: record filters
 * with FastChat's flags and default output names.
 */
import { boolOption, intOption, optionalStringOption, stringOption, type ConfigOf } from '../../../common/config';
import { FleetError } from '../../../common/errors';
import { basePipeline, IN_FILE_OPTIONS, OUTPUT_OPTIONS, outputPlan, RANGE_OPTIONS, requireInFile, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline, type PipelineSummary } from '../pipeline';
import type { TaskSpec } from '../tasks';
import type { OutputFormat } from '../../io/record-format';

const optionalOutFile = {
  outFile: optionalStringOption({ flag: '--out-file', description: 'output file (alias --out)', placeholder: '<path>', defaultLabel: 'derived from --in-file' }),
};

export const FILTER_WRONG_FORMAT_OPTIONS = { ...IN_FILE_OPTIONS, ...optionalOutFile, ...OUTPUT_OPTIONS, ...RUN_OPTIONS };
export const EXTRACT_OPTIONS = { ...IN_FILE_OPTIONS, ...optionalOutFile, ...RANGE_OPTIONS, ...OUTPUT_OPTIONS, ...RUN_OPTIONS };
export const OPTIONAL_CLEAN_OPTIONS = {
  ...IN_FILE_OPTIONS,
  ...optionalOutFile,
  keepLang: stringOption({ flag: '--keep-lang', description: "keep only this language (ISO code such as en), or 'all'", default: 'all', placeholder: '<code|all>' }),
  skipLang: optionalStringOption({ flag: '--skip-lang', description: 'drop this language (ISO code such as ko)', placeholder: '<code>' }),
  reduceRep: boolOption({ flag: '--reduce-rep', description: 'drop conversations with a digit repeated 9 times (may remove good data such as addresses)', default: false }),
  langSampleBytes: intOption({ flag: '--lang-sample-bytes', description: 'bytes of each conversation the language detector reads', default: 4096, min: 64 }),
  ...OUTPUT_OPTIONS,
  ...RUN_OPTIONS,
};

type FilterConfig = ConfigOf<typeof EXTRACT_OPTIONS>;
export type OptionalCleanConfig = ConfigOf<typeof OPTIONAL_CLEAN_OPTIONS>;

/** FastChat's `in_file.replace(".json", suffix)`, never the input file itself. */
export function derivedOutFile(inFile: string, suffix: string): string {
  const derived = inFile.split('.json').join(`${suffix}.json`);
  return derived === inFile ? `${inFile}${suffix}.json` : derived;
}

async function runFilter(label: string, config: FilterConfig, io: JobIo, task: (format: OutputFormat) => TaskSpec, suffix: string): Promise<PipelineSummary> {
  const inFile = requireInFile(config.inFile);
  const plan = outputPlan(config.outFile ?? derivedOutFile(inFile, suffix), config);
  return runPipeline({
    ...basePipeline(label, config, io), ...plan,
    inFiles: [inFile], range: { begin: config.begin, end: config.end }, task: task(plan.outFormat),
  });
}

export async function runFilterWrongFormat(config: ConfigOf<typeof FILTER_WRONG_FORMAT_OPTIONS>, io: JobIo): Promise<PipelineSummary> {
  if (config.outFile === undefined) throw new FleetError('invalid_request', '--out-file is required', { param: 'out-file' });
  return runFilter('filter-wrong-format', { ...config, begin: undefined, end: undefined }, io, (format) => ({ task: 'filter-wrong-format', format }), '_filtered');
}

export function runExtractSingleRound(config: FilterConfig, io: JobIo): Promise<PipelineSummary> {
  return runFilter('extract-single-round', config, io, (format) => ({ task: 'extract-single-round', format }), '_single');
}

export function runExtractGpt4Only(config: FilterConfig, io: JobIo): Promise<PipelineSummary> {
  return runFilter('extract-gpt4-only', config, io, (format) => ({ task: 'extract-gpt4-only', format }), '_gpt4');
}

/** optional_clean.py's default output name: sharegpt_clean[_<keep>][_skip_<skip>][_reduce_rep].json */
function optionalCleanOutFile(config: OptionalCleanConfig): string {
  let name = 'sharegpt_clean';
  if (config.keepLang !== 'all') name += `_${config.keepLang}`;
  if (config.skipLang !== undefined) name += `_skip_${config.skipLang}`;
  if (config.reduceRep) name += '_reduce_rep';
  return `${name}.json`;
}

export async function runOptionalClean(config: OptionalCleanConfig, io: JobIo): Promise<PipelineSummary> {
  if (config.keepLang !== 'all' && config.skipLang !== undefined) {
    throw new FleetError('invalid_request', '--keep-lang and --skip-lang cannot be combined', { param: 'skip-lang' });
  }
  const options = { keepLang: config.keepLang, skipLang: config.skipLang, reduceRep: config.reduceRep, sampleBytes: config.langSampleBytes };
  return runFilter('optional-clean', { ...config, outFile: config.outFile ?? optionalCleanOutFile(config), begin: undefined, end: undefined }, io,
    (format) => ({ task: 'optional-clean', format, options }), '');
}
