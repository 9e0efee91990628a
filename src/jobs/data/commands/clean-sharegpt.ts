/** `fleetchat jobs clean-sharegpt`: HTML → markdown, FastChat's filters, dedup (fastchat/data/clean_sharegpt.py). */
import { intOption, listOption, stringOption, type ConfigOf } from '../../../common/config';
import { CleanDeduplicator } from '../clean/dedup';
import { basePipeline, IN_FILE_OPTIONS, OUTPUT_OPTIONS, outputPlan, RANGE_OPTIONS, requireInFile, RUN_OPTIONS, type JobIo } from '../options';
import { runPipeline, type PipelineSummary } from '../pipeline';

export const CLEAN_SHAREGPT_OPTIONS = {
  ...IN_FILE_OPTIONS,
  outFile: stringOption({ flag: '--out-file', description: 'output file (alias --out)', default: 'sharegpt_clean.json', placeholder: '<path>' }),
  ...RANGE_OPTIONS,
  blockedWords: listOption({ flag: '--blocked-words', description: "conversations containing any of these words (case-insensitive) are dropped; '' for none", default: ['openai', 'chatgpt'] }),
  minChars: intOption({ flag: '--min-chars', description: 'conversations with fewer characters after cleaning are dropped (too_short)', default: 16, min: 0 }),
  maxHtmlChars: intOption({ flag: '--max-html-chars', description: 'an HTML turn longer than this is dropped unparsed (html_too_large)', default: 16_000_000, min: 1 }),
  maxHtmlDepth: intOption({ flag: '--max-html-depth', description: 'an HTML turn nested deeper than this is dropped unparsed (html_too_deep)', default: 512, min: 1, max: 1000 }),
  maxMarkdownChars: intOption({ flag: '--max-markdown-chars', description: 'a conversation whose markdown would be longer than this is dropped (markdown_too_large)', default: 32_000_000, min: 1 }),
  ...OUTPUT_OPTIONS,
  ...RUN_OPTIONS,
};

export type CleanShareGptConfig = ConfigOf<typeof CLEAN_SHAREGPT_OPTIONS>;

export async function runCleanShareGpt(config: CleanShareGptConfig, io: JobIo): Promise<PipelineSummary> {
  const plan = outputPlan(config.outFile, config);
  const dedup = new CleanDeduplicator();
  return runPipeline({
    ...basePipeline('clean-sharegpt', config, io),
    ...plan,
    inFiles: [requireInFile(config.inFile)],
    range: { begin: config.begin, end: config.end },
    task: {
      task: 'clean-sharegpt',
      format: plan.outFormat,
      options: {
        blockedWords: config.blockedWords.map((w) => w.toLowerCase()),
        minChars: config.minChars,
        maxHtmlChars: config.maxHtmlChars,
        maxHtmlDepth: config.maxHtmlDepth,
        maxMarkdownChars: config.maxMarkdownChars,
      },
    },
    finish: (result) => dedup.check(result),
  });
}
