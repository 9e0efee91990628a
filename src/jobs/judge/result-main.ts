/** `fleetchat jobs show-result`: options (FastChat's show_result flags + --json, --svg) and the run. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { boolOption, enumOption, listOption, optionalStringOption, stringOption, type ConfigOf } from '../../common/config';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { judgmentFile, resolveQuestionFile } from './bench-files';
import { BENCH_OPTIONS, benchDirOf, LOG_OPTIONS } from './judge-options';
import { showResult, type ShowResultOutput } from './show-result';

export const SHOW_RESULT_OPTIONS = {
  mode: enumOption({ flag: '--mode', description: 'which judgments to read', default: 'single', choices: ['single', 'pairwise-baseline', 'pairwise-all'] as const }),
  inputFile: optionalStringOption({ flag: '--input-file', description: 'judgment file (default: <bench-dir>/model_judgment/<judge-model>_{single,pair}.jsonl)', placeholder: '<path>' }),
  judgeModel: stringOption({ flag: '--judge-model', description: 'judge model (names the default input file)', default: 'gpt-4', placeholder: '<model>' }),
  baselineModel: stringOption({ flag: '--baseline-model', description: 'baseline of pairwise-baseline', default: 'gpt-3.5-turbo', placeholder: '<model>' }),
  modelList: listOption({ flag: '--model-list', description: 'only these models (pairwise: filters model_1, as FastChat)', default: [], defaultLabel: 'all', placeholder: '<model...>' }),
  ...BENCH_OPTIONS,
  svg: optionalStringOption({ flag: '--svg', description: 'also write the per-category chart to this SVG file', placeholder: '<path>' }),
  json: boolOption({ flag: '--json', description: 'print only the numbers as JSON', default: false }),
  ...LOG_OPTIONS,
};

export type ShowResultConfig = ConfigOf<typeof SHOW_RESULT_OPTIONS>;

function questionFileFor(config: ShowResultConfig, logger: Logger): string | undefined {
  try {
    return resolveQuestionFile(benchDirOf(config), config.benchName, config.questionFile);
  } catch (err) {
    if (config.questionFile !== undefined) throw err;
    logger.warn({ err: (err as Error).message }, 'no question file: no per-category breakdown');
    return undefined;
  }
}

/** Returns what to print on stdout; writes the SVG when asked. */
export function runShowResult(config: ShowResultConfig, logger: Logger): string {
  const benchDir = benchDirOf(config);
  const out: ShowResultOutput = showResult({
    mode: config.mode,
    inputFile: config.inputFile ?? judgmentFile(benchDir, config.mode, config.judgeModel),
    baselineModel: config.baselineModel,
    modelList: config.modelList.length > 0 ? config.modelList : undefined,
    questionFile: questionFileFor(config, logger),
    logger,
  });
  if (config.svg !== undefined) {
    if (out.svg === undefined) throw new FleetError('invalid_request', '--svg needs the question file (for the categories): pass --question-file', { param: 'svg' });
    if (!existsSync(dirname(config.svg))) mkdirSync(dirname(config.svg), { recursive: true });
    writeFileSync(config.svg, out.svg, 'utf8');
    logger.info({ path: config.svg }, 'chart written');
  }
  return config.json ? `${JSON.stringify(out.json)}\n` : out.text;
}
