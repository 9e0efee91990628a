/**
 * `fleetchat jobs sample` (fastchat/data/sample.py): records [begin, end) of the file shuffled as numpy's
 * `seed(42); shuffle` shuffles it (or in file order with --keep-order), leaving out conversations longer than
 * --max-length characters. The file is indexed, not loaded: only the sampled records are read.
 */
import { boolOption, intOption, stringOption, type ConfigOf } from '../../../common/config';
import { basePipeline, IN_FILE_OPTIONS, OUTPUT_OPTIONS, outputPlan, requireInFile, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline, type PipelineSummary } from '../pipeline';
import { numpyShuffledOrder } from '../sample/numpy-shuffle';
import { indexRecords, readIndexed } from '../sample/record-index';

export const SAMPLE_OPTIONS = {
  ...IN_FILE_OPTIONS,
  outFile: stringOption({ flag: '--out-file', description: 'output file (alias --out)', default: 'sampled.json', placeholder: '<path>' }),
  begin: intOption({ flag: '--begin', description: 'first position (after shuffling) to take', default: 0, min: 0 }),
  end: intOption({ flag: '--end', description: 'position to stop before', default: 100, min: 0 }),
  maxLength: intOption({ flag: '--max-length', description: 'leave out conversations with more characters than this', default: 1024, min: 0 }),
  keepOrder: boolOption({ flag: '--keep-order', description: 'do not shuffle', default: false }),
  seed: intOption({ flag: '--seed', description: "shuffle seed (numpy's legacy RandomState)", default: 42, min: 0, max: 0xffffffff }),
  ...OUTPUT_OPTIONS,
  ...RUN_OPTIONS,
};

export async function runSample(config: ConfigOf<typeof SAMPLE_OPTIONS>, io: JobIo): Promise<PipelineSummary> {
  const inFile = requireInFile(config.inFile);
  const plan = outputPlan(config.outFile, config);
  const base = { ...basePipeline('sample', config, io), ...plan, inFiles: [inFile], task: { task: 'sample' as const, format: plan.outFormat, maxChars: config.maxLength } };
  if (config.keepOrder) return runPipeline({ ...base, range: { begin: config.begin, end: config.end } });
  const index = await indexRecords(inFile, config.maxRecordBytes);
  const order = numpyShuffledOrder(index.count, config.seed).subarray(Math.min(config.begin, index.count), Math.min(config.end, index.count));
  let totalBytes = 0;
  for (const i of order) totalBytes += Math.max(0, index.lengths[i]);
  return runPipeline({ ...base, range: {}, source: { records: () => readIndexed(inFile, index, order), totalBytes } });
}
