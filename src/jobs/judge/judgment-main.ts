/** `fleetchat jobs gen-judgment`: options (FastChat's gen_judgment flags + the judge's endpoint or address) and the run. */
import { durationOption, enumOption, intOption, listOption, optionalStringOption, stringOption, addressOption, type ConfigOf, type OptionSpec } from '../../common/config';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { judgmentFile, resolveQuestionFile, resolveReferenceFile } from './bench-files';
import { genJudgments, type GenJudgmentSummary } from './gen-judgment';
import type { JudgeApi } from './judge-api';
import { BENCH_OPTIONS, benchDirOf, createJudgeCore, JUDGE_ENDPOINT_OPTIONS, LOG_OPTIONS } from './judge-options';
import { optionalIntOption } from '../../common/config';
import { withInterrupt } from './interrupt';
import { connectJudge } from './remote-judge';
import { clusterSecurityOptions, loadClusterSecurity } from '../../common/grpc/credentials';

const optionalAddress = (flag: string, description: string): OptionSpec<string | undefined> => {
  const spec = addressOption({ flag, description, default: '' });
  return { ...spec, default: undefined, parse: (raw, prev) => spec.parse(raw, prev ?? '') };
};

export const GEN_JUDGMENT_OPTIONS = {
  mode: enumOption({ flag: '--mode', description: 'single answer grading, pairwise against a baseline, or all pairs', default: 'single', choices: ['single', 'pairwise-baseline', 'pairwise-all'] as const }),
  baselineModel: stringOption({ flag: '--baseline-model', description: 'baseline of pairwise-baseline', default: 'gpt-3.5-turbo', placeholder: '<model>' }),
  modelList: listOption({ flag: '--model-list', description: 'models to judge', default: [], defaultLabel: 'every answer file', placeholder: '<model...>' }),
  ...BENCH_OPTIONS,
  answerDir: optionalStringOption({ flag: '--answer-dir', description: 'model answers (default: <bench-dir>/model_answer)', placeholder: '<dir>' }),
  refAnswerFile: optionalStringOption({ flag: '--ref-answer-file', description: 'reference answers (default: <bench-dir>/reference_answer/<judge-model>.jsonl, else gpt-4.jsonl, else bundled)', placeholder: '<path>' }),
  outputFile: optionalStringOption({ flag: '--output-file', description: 'judgments (default: <bench-dir>/model_judgment/<judge-model>_{single,pair}.jsonl)', placeholder: '<path>' }),
  parallel: intOption({ flag: '--parallel', description: 'judgments in flight', default: 1, min: 1 }),
  firstN: optionalIntOption({ flag: '--first-n', description: 'only the first n questions', min: 1 }),
  judgeAddress: optionalAddress('--judge-address', 'a running `fleetchat judge serve` (default: judge in-process with the --judge-* options)'),
  judgeRpcTimeout: durationOption({ flag: '--judge-rpc-timeout', description: 'deadline of one remote Judge RPC (both games of a pair and their retries)', default: 1_800_000, defaultLabel: '30m' }),
  ...JUDGE_ENDPOINT_OPTIONS,
  ...LOG_OPTIONS,
  ...clusterSecurityOptions,
};

export type GenJudgmentConfig = ConfigOf<typeof GEN_JUDGMENT_OPTIONS>;

function judgeFor(config: GenJudgmentConfig, logger: Logger): { api: JudgeApi; close: () => void } {
  if (config.judgeAddress === undefined) return { api: createJudgeCore(config), close: () => undefined };
  if (config.judgeFile !== JUDGE_ENDPOINT_OPTIONS.judgeFile.default) {
    logger.warn({ judgeFile: config.judgeFile, judgeAddress: config.judgeAddress }, '--judge-file is not used with --judge-address: the service judges with its own prompt file');
  }
  const remote = connectJudge(config.judgeAddress, config.judgeRpcTimeout, loadClusterSecurity(config).client('judge'));
  return { api: remote, close: () => remote.close() };
}

export async function runGenJudgment(config: GenJudgmentConfig, logger: Logger): Promise<GenJudgmentSummary> {
  const benchDir = benchDirOf(config);
  const judge = judgeFor(config, logger);
  try {
    const summary = await withInterrupt(logger, (signal) =>
      genJudgments({
        mode: config.mode,
        judgeModel: config.judgeModel,
        baselineModel: config.baselineModel,
        models: config.modelList.length > 0 ? config.modelList : undefined,
        questionFile: resolveQuestionFile(benchDir, config.benchName, config.questionFile),
        answerDir: config.answerDir ?? `${benchDir}/model_answer`,
        referenceFile: resolveReferenceFile(benchDir, config.benchName, config.judgeModel, config.refAnswerFile),
        outputFile: config.outputFile ?? judgmentFile(benchDir, config.mode, config.judgeModel),
        firstN: config.firstN,
        parallel: config.parallel,
        judge: judge.api,
        logger,
        signal,
      }),
    );
    logger.info(summary, 'gen-judgment done');
    if (summary.failed > 0 || summary.notStarted > 0) {
      throw new FleetError('unavailable', `${summary.failed} judgment(s) failed and ${summary.notStarted} were not started; rerun the same command to finish`);
    }
    return summary;
  } finally {
    judge.close();
  }
}
