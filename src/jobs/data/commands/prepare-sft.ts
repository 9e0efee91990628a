/**
 * `fleetchat jobs prepare-sft`: tokenized, masked SFT data (input_ids / labels / attention_mask JSONL) plus the
 * same conversations as OpenAI-style messages JSONL (FastChat train.py's preprocess, for every template).
 */
import { boolOption, enumOption, optionalStringOption, stringOption, type ConfigOf } from '../../../common/config';
import { basePipeline, IN_FILE_OPTIONS, OUTPUT_OPTIONS, RANGE_OPTIONS, requireInFile, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline, type PipelineSummary } from '../pipeline';
import { MODEL_OPTIONS, requireModelDir } from './split-long';

export const PREPARE_SFT_OPTIONS = {
  ...IN_FILE_OPTIONS,
  outFile: stringOption({ flag: '--out-file', description: 'tokenized output, JSON Lines {id, input_ids, labels, attention_mask} (alias --out)', default: 'sft_tokens.jsonl', placeholder: '<path>' }),
  messagesFile: optionalStringOption({ flag: '--messages-file', description: 'OpenAI-style {id, messages} JSON Lines for TRL / axolotl', placeholder: '<path>', defaultLabel: '<out-file without .jsonl>.messages.jsonl' }),
  ...RANGE_OPTIONS,
  ...MODEL_OPTIONS,
  onOverflow: enumOption({ flag: '--on-overflow', description: 'a conversation longer than --max-length: truncate it or drop it (always reported)', default: 'truncate', choices: ['truncate', 'drop'] as const }),
  check: boolOption({ flag: '--check', description: 'decode the unmasked tokens of every record back and compare them with the assistant replies; failures are dropped (label_check_failed)', default: false }),
  reportFile: OUTPUT_OPTIONS.reportFile,
  ...RUN_OPTIONS,
};

export async function runPrepareSft(config: ConfigOf<typeof PREPARE_SFT_OPTIONS>, io: JobIo): Promise<PipelineSummary> {
  const outFile = config.outFile;
  return runPipeline({
    ...basePipeline('prepare-sft', config, io),
    inFiles: [requireInFile(config.inFile)],
    outFile,
    outFormat: 'jsonl',
    extraOutFile: config.messagesFile ?? `${outFile.replace(/\.jsonl$/i, '')}.messages.jsonl`,
    reportFile: config.reportFile ?? `${outFile}.report.jsonl`,
    range: { begin: config.begin, end: config.end },
    task: {
      task: 'prepare-sft',
      chat: { modelDir: requireModelDir(config.modelNameOrPath), convTemplate: config.convTemplate },
      options: { maxLength: config.maxLength, onOverflow: config.onOverflow, check: config.check },
    },
  });
}
