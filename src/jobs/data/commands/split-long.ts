/** `fleetchat jobs split-long`: split conversations to the model's max length, exactly (FastChat split_long_conversation). */
import { enumOption, intOption, optionalStringOption, stringOption, type ConfigOf } from '../../../common/config';
import { FleetError } from '../../../common/errors';
import { basePipeline, IN_FILE_OPTIONS, OUTPUT_OPTIONS, outputPlan, RANGE_OPTIONS, requireInFile, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline, type PipelineSummary } from '../pipeline';

export const MODEL_OPTIONS = {
  modelNameOrPath: optionalStringOption({ flag: '--model-name-or-path', description: 'model directory with tokenizer.json and tokenizer_config.json (alias --model-name)', placeholder: '<dir>' }),
  convTemplate: stringOption({ flag: '--conv-template', description: "FastChat conversation template name, or 'jinja' for the tokenizer's chat_template", default: '', defaultLabel: "chosen from the model, as the worker does", placeholder: '<name>' }),
  maxLength: intOption({ flag: '--max-length', description: 'maximum tokens per sample', default: 2048, min: 8 }),
};

export function requireModelDir(modelDir: string | undefined): string {
  if (modelDir === undefined || modelDir === '') throw new FleetError('invalid_request', '--model-name-or-path is required (a model directory)', { param: 'model-name-or-path' });
  return modelDir;
}

export const SPLIT_LONG_OPTIONS = {
  ...IN_FILE_OPTIONS,
  outFile: stringOption({ flag: '--out-file', description: 'output file (alias --out)', default: 'sharegpt_split.json', placeholder: '<path>' }),
  ...RANGE_OPTIONS,
  ...MODEL_OPTIONS,
  onOverflow: enumOption({ flag: '--on-overflow', description: "a round longer than --max-length on its own: truncate its reply, drop it, or keep it as an over-long sample (always reported)", default: 'truncate', choices: ['truncate', 'drop', 'keep'] as const }),
  ...OUTPUT_OPTIONS,
  ...RUN_OPTIONS,
};

export async function runSplitLong(config: ConfigOf<typeof SPLIT_LONG_OPTIONS>, io: JobIo): Promise<PipelineSummary> {
  const plan = outputPlan(config.outFile, config);
  return runPipeline({
    ...basePipeline('split-long', config, io), ...plan,
    inFiles: [requireInFile(config.inFile)],
    range: { begin: config.begin, end: config.end },
    task: {
      task: 'split-long',
      format: plan.outFormat,
      chat: { modelDir: requireModelDir(config.modelNameOrPath), convTemplate: config.convTemplate },
      options: { maxLength: config.maxLength, onOverflow: config.onOverflow },
    },
  });
}
