/** `fleetchat jobs gen-model-answer`: options (FastChat's gen_api_answer flags) and the run. */
import { durationOption, intOption, listOption, optionalStringOption, stringOption, type ConfigOf } from '../../common/config';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { createChatClient } from '../openai-client/chat-client';
import { parseModelSpec } from './answer-plan';
import { resolveQuestionFile } from './bench-files';
import { genModelAnswers, type GenModelAnswerSummary } from './gen-model-answer';
import { BENCH_OPTIONS, benchDirOf, LOG_OPTIONS } from './judge-options';
import { optionalFloatOption, optionalIntOption } from '../../common/config';
import { withInterrupt } from './interrupt';

export const GEN_MODEL_ANSWER_OPTIONS = {
  model: listOption({ flag: '--model', description: "model(s) to answer with: 'name' or 'name=id' (id names the answer file)", default: [], defaultLabel: 'required', placeholder: '<name[=id]...>' }),
  baseUrl: stringOption({ flag: '--base-url', description: 'OpenAI-compatible base URL serving the models (the default is the local gateway of `fleetchat up` / `npm start`)', default: 'http://127.0.0.1:8000/v1', placeholder: '<url>' }),
  apiKey: stringOption({ flag: '--api-key', description: 'bearer key for the endpoint (prefer the env var)', default: '', defaultLabel: 'none', placeholder: '<key>' }),
  ...BENCH_OPTIONS,
  answerFile: optionalStringOption({ flag: '--answer-file', description: 'output file (one model only; default: <bench-dir>/model_answer/<id>.jsonl)', placeholder: '<path>' }),
  numChoices: intOption({ flag: '--num-choices', description: 'answers per question', default: 1, min: 1 }),
  maxTokens: intOption({ flag: '--max-tokens', description: 'max new tokens per turn', default: 1024, min: 1 }),
  forceTemperature: optionalFloatOption({ flag: '--force-temperature', description: "one temperature for every question instead of FastChat's per-category ones", min: 0 }),
  questionBegin: optionalIntOption({ flag: '--question-begin', description: 'first question index (Python slice)' }),
  questionEnd: optionalIntOption({ flag: '--question-end', description: 'end question index, exclusive (Python slice)' }),
  parallel: intOption({ flag: '--parallel', description: 'questions answered concurrently', default: 1, min: 1 }),
  systemMessage: stringOption({ flag: '--system-message', description: "system message: 'auto' (FastChat: 'You are a helpful assistant.' for OpenAI models, none otherwise), '' for none, or the text", default: 'auto', placeholder: '<text>' }),
  requestTimeout: durationOption({ flag: '--request-timeout', description: 'timeout of one request attempt', default: 300_000, defaultLabel: '5m' }),
  maxRetries: intOption({ flag: '--max-retries', description: 'retries on 408/409/429/5xx and network errors (exponential backoff, Retry-After honoured)', default: 8, min: 0 }),
  ...LOG_OPTIONS,
};

export type GenModelAnswerConfig = ConfigOf<typeof GEN_MODEL_ANSWER_OPTIONS>;

export async function runGenModelAnswer(config: GenModelAnswerConfig, logger: Logger): Promise<GenModelAnswerSummary> {
  if (config.model.length === 0) throw new FleetError('invalid_request', 'give at least one --model', { param: 'model' });
  const benchDir = benchDirOf(config);
  const chat = createChatClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, timeoutMs: config.requestTimeout, maxRetries: config.maxRetries, maxConcurrency: config.parallel });
  const summary = await withInterrupt(logger, (signal) =>
    genModelAnswers({
      questionFile: resolveQuestionFile(benchDir, config.benchName, config.questionFile),
      questionBegin: config.questionBegin,
      questionEnd: config.questionEnd,
      models: config.model.map(parseModelSpec),
      answerDir: `${benchDir}/model_answer`,
      answerFile: config.answerFile,
      numChoices: config.numChoices,
      maxTokens: config.maxTokens,
      forceTemperature: config.forceTemperature,
      systemMessage: config.systemMessage,
      parallel: config.parallel,
      chat,
      logger,
      signal,
    }),
  );
  logger.info(summary, 'gen-model-answer done');
  if (summary.failed > 0 || summary.notStarted > 0) {
    throw new FleetError('unavailable', `${summary.failed} answer(s) failed and ${summary.notStarted} were not started; rerun the same command to finish`);
  }
  return summary;
}
