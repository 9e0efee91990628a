/**
 * Option schemas shared by `fleetchat judge serve` and the judge jobs (flags ↔ FLEETCHAT_* env vars):
 * the judge model's endpoint, the benchmark layout, logging. Secrets come from the environment
 * (FLEETCHAT_JUDGE_API_KEY, FLEETCHAT_API_KEY) and are never logged.
 */
import {
  durationOption, enumOption, floatOption, intOption, optionalStringOption, stringOption, type ConfigOf,
} from '../../common/config';
import { createLogger, type Logger } from '../../common/log';
import { createChatClient } from '../openai-client/chat-client';
import { BUILTIN_JUDGE_PROMPTS } from './data-paths';
import { JudgeCore } from './judge-core';
import { loadJudgePrompts } from './prompts';

export const LOG_OPTIONS = {
  logLevel: enumOption({ flag: '--log-level', description: 'log level', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const }),
};

/** The judge model: any OpenAI-compatible chat-completions endpoint. */
export const JUDGE_ENDPOINT_OPTIONS = {
  judgeBaseUrl: stringOption({ flag: '--judge-base-url', description: "judge model's OpenAI-compatible base URL (the default is the local gateway of `fleetchat up` / `npm start`; OpenAI, vLLM, ...)", default: 'http://127.0.0.1:8000/v1', placeholder: '<url>' }),
  judgeApiKey: stringOption({ flag: '--judge-api-key', description: 'bearer key for the judge endpoint (prefer the env var)', default: '', defaultLabel: 'none', placeholder: '<key>' }),
  judgeModel: stringOption({ flag: '--judge-model', description: 'judge model name at the endpoint (also names the judgment file)', default: 'gpt-4', placeholder: '<model>' }),
  judgeFile: stringOption({ flag: '--judge-file', description: 'judge prompts (FastChat judge_prompts.jsonl format)', default: BUILTIN_JUDGE_PROMPTS, defaultLabel: "FastChat's judge_prompts.jsonl (bundled)", placeholder: '<path>' }),
  judgeTemperature: floatOption({ flag: '--judge-temperature', description: 'judge sampling temperature', default: 0, min: 0 }),
  judgeMaxTokens: intOption({ flag: '--judge-max-tokens', description: "max tokens of the judge's answer", default: 2048, min: 1 }),
  judgeTimeout: durationOption({ flag: '--judge-timeout', description: 'timeout of one judge-model request attempt', default: 300_000, defaultLabel: '5m' }),
  judgeMaxRetries: intOption({ flag: '--judge-max-retries', description: 'retries on 408/409/429/5xx and network errors (exponential backoff, Retry-After honoured)', default: 8, min: 0 }),
  judgeConcurrency: intOption({ flag: '--judge-concurrency', description: 'judge-model requests in flight at most', default: 16, min: 1 }),
};

export type JudgeEndpointConfig = ConfigOf<typeof JUDGE_ENDPOINT_OPTIONS>;

/** A JudgeCore for the configured endpoint and prompt file. */
export function createJudgeCore(config: JudgeEndpointConfig): JudgeCore {
  return new JudgeCore({
    prompts: loadJudgePrompts(config.judgeFile),
    chat: createChatClient({
      baseUrl: config.judgeBaseUrl,
      apiKey: config.judgeApiKey,
      timeoutMs: config.judgeTimeout,
      maxRetries: config.judgeMaxRetries,
      maxConcurrency: config.judgeConcurrency,
    }),
    defaultJudgeModel: config.judgeModel,
    temperature: config.judgeTemperature,
    maxTokens: config.judgeMaxTokens,
  });
}

/** FastChat's benchmark layout: data/<bench-name>/{question.jsonl, model_answer/, reference_answer/, model_judgment/}. */
export const BENCH_OPTIONS = {
  benchName: stringOption({ flag: '--bench-name', description: 'benchmark name (mt_bench is bundled)', default: 'mt_bench', placeholder: '<name>' }),
  benchDir: optionalStringOption({ flag: '--bench-dir', description: 'benchmark directory (default: data/<bench-name>)', placeholder: '<dir>' }),
  questionFile: optionalStringOption({ flag: '--question-file', description: 'questions (default: <bench-dir>/question.jsonl, else the bundled copy)', placeholder: '<path>' }),
};

export function benchDirOf(config: { benchName: string; benchDir: string | undefined }): string {
  return config.benchDir ?? `data/${config.benchName}`;
}

export function jobLogger(level: string, name: string): Logger {
  return createLogger({ level, name });
}
