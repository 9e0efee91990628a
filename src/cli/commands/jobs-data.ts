/**
 * `fleetchat jobs <data command>`: FastChat's data scripts (fastchat/data/*.py) as streaming jobs (src/jobs/data).
 * FastChat's short spellings `--in`, `--out` and `--model-name` are accepted as hidden aliases.
 */
import { Option, type Command } from 'commander';
import { addOptions, readConfig, type OptionSchema } from '../../common/config';
import { CLEAN_SHAREGPT_OPTIONS, runCleanShareGpt } from '../../jobs/data/commands/clean-sharegpt';
import { GET_STATS_OPTIONS, runGetStats } from '../../jobs/data/commands/get-stats';
import { HARDCODED_QUESTIONS_OPTIONS, runHardcodedQuestions } from '../../jobs/data/commands/hardcoded-questions';
import { MERGE_OPTIONS, runMerge } from '../../jobs/data/commands/merge';
import {
  EXTRACT_OPTIONS, FILTER_WRONG_FORMAT_OPTIONS, OPTIONAL_CLEAN_OPTIONS, runExtractGpt4Only, runExtractSingleRound, runFilterWrongFormat, runOptionalClean,
} from '../../jobs/data/commands/record-filters';
import { PREPARE_SFT_OPTIONS, runPrepareSft } from '../../jobs/data/commands/prepare-sft';
import { runSample, SAMPLE_OPTIONS } from '../../jobs/data/commands/sample';
import { runSplitLong, SPLIT_LONG_OPTIONS } from '../../jobs/data/commands/split-long';
import { formatStats } from '../../jobs/data/stats/stats-summary';
import { dataLogger, type JobIo, type RunConfig } from '../../jobs/data/options';
import { jobsCommand } from './jobs';

type Opts = Record<string, unknown>;

const ALIASES: Record<string, { flags: string; target: string; flag: string }> = {
  in: { flags: '--in <path>', target: 'inFile', flag: '--in-file' },
  out: { flags: '--out <path>', target: 'outFile', flag: '--out-file' },
  modelName: { flags: '--model-name <dir>', target: 'modelNameOrPath', flag: '--model-name-or-path' },
  modelPath: { flags: '--model-path <dir>', target: 'modelNameOrPath', flag: '--model-name-or-path' },
};

/** Adds the schema's flags plus the hidden FastChat aliases, and a reader that folds the aliases in. */
function define<S extends OptionSchema>(parent: Command, name: string, description: string, schema: S) {
  const command = addOptions(parent.command(name).description(description), schema);
  for (const [key, alias] of Object.entries(ALIASES)) {
    if (!Object.values(schema).some((spec) => spec.flag === alias.flag)) continue;
    const variadic = key === 'in' && name === 'merge';
    command.addOption(new Option(variadic ? '--in <paths...>' : alias.flags).hideHelp());
  }
  const read = (opts: Opts) => {
    const merged: Opts = { ...opts };
    for (const [key, alias] of Object.entries(ALIASES)) {
      const source = command.getOptionValueSource(alias.target);
      if (opts[key] !== undefined && (source === undefined || source === 'default')) merged[alias.target] = opts[key];
    }
    return readConfig(schema, merged);
  };
  return { command, read };
}

function io(config: RunConfig, job: string): JobIo {
  return { logger: dataLogger(config, job), stderr: process.stderr };
}

export function register(program: Command): void {
  const jobs = jobsCommand(program);
  const clean = define(jobs, 'clean-sharegpt', 'ShareGPT HTML → markdown, drop bad/blocked/duplicate conversations (FastChat clean_sharegpt)', CLEAN_SHAREGPT_OPTIONS);
  clean.command.action(async (opts: Opts) => {
    const config = clean.read(opts);
    await runCleanShareGpt(config, io(config, 'clean-sharegpt'));
  });
  const optional = define(jobs, 'optional-clean', 'keep or skip a language, drop repeated digits (FastChat optional_clean)', OPTIONAL_CLEAN_OPTIONS);
  optional.command.action(async (opts: Opts) => {
    const config = optional.read(opts);
    await runOptionalClean(config, io(config, 'optional-clean'));
  });
  const wrong = define(jobs, 'filter-wrong-format', 'drop conversations with broken numbered lists (FastChat filter_wrong_format)', FILTER_WRONG_FORMAT_OPTIONS);
  wrong.command.action(async (opts: Opts) => {
    const config = wrong.read(opts);
    await runFilterWrongFormat(config, io(config, 'filter-wrong-format'));
  });
  const single = define(jobs, 'extract-single-round', 'keep only the first round of each conversation (FastChat extract_single_round)', EXTRACT_OPTIONS);
  single.command.action(async (opts: Opts) => {
    const config = single.read(opts);
    await runExtractSingleRound(config, io(config, 'extract-single-round'));
  });
  const gpt4 = define(jobs, 'extract-gpt4-only', "keep conversations whose model is gpt4 or unset (FastChat extract_gpt4_only)", EXTRACT_OPTIONS);
  gpt4.command.action(async (opts: Opts) => {
    const config = gpt4.read(opts);
    await runExtractGpt4Only(config, io(config, 'extract-gpt4-only'));
  });
  const merge = define(jobs, 'merge', 'concatenate record files (FastChat merge)', MERGE_OPTIONS);
  merge.command.action(async (opts: Opts) => {
    const config = merge.read(opts);
    await runMerge(config, io(config, 'merge'));
  });
  const sample = define(jobs, 'sample', "take records [begin, end) after numpy's seed-42 shuffle (FastChat sample)", SAMPLE_OPTIONS);
  sample.command.action(async (opts: Opts) => {
    const config = sample.read(opts);
    await runSample(config, io(config, 'sample'));
  });
  const hardcoded = define(jobs, 'hardcoded-questions', 'identity Q&A for a model name and organisation (FastChat hardcoded_questions)', HARDCODED_QUESTIONS_OPTIONS);
  hardcoded.command.action(async (opts: Opts) => {
    const config = hardcoded.read(opts);
    const written = await runHardcodedQuestions(config);
    process.stderr.write(`hardcoded-questions: ${written} records -> ${config.outFile}\n`);
  });
  const split = define(jobs, 'split-long', "split conversations to the model's max length with its real tokenizer and template (FastChat split_long_conversation)", SPLIT_LONG_OPTIONS);
  split.command.action(async (opts: Opts) => {
    const config = split.read(opts);
    await runSplitLong(config, io(config, 'split-long'));
  });
  const sft = define(jobs, 'prepare-sft', 'tokenize with the chat template, mask non-assistant tokens; also OpenAI messages JSONL', PREPARE_SFT_OPTIONS);
  sft.command.action(async (opts: Opts) => {
    const config = sft.read(opts);
    await runPrepareSft(config, io(config, 'prepare-sft'));
  });
  const stats = define(jobs, 'get-stats', 'counts, turns, lengths, length histogram (FastChat get_stats)', GET_STATS_OPTIONS);
  stats.command.action(async (opts: Opts) => {
    const config = stats.read(opts);
    process.stdout.write(formatStats(await runGetStats(config, io(config, 'get-stats'))));
  });
}
