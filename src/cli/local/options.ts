/** Flags shared by `fleetchat generate` and `fleetchat chat` (a model run in this process, no servers). */
import { homedir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { enumOption, floatOption, intOption, listOption, optionalStringOption, stringOption, type ConfigOf } from '../../common/config';
import { silentLogger, type Logger } from '../../common/log';
import { WEIGHT_VARIANTS } from '../../worker/loader/files';
import { chooseDefaultModel } from '../default-model-choice';
import { loadGenerationRuntime } from '../../worker/loader/load';
import { DEFAULT_SOURCE, resolveModelSource } from '../../worker/loader/source';
import type { GenerationRuntime } from '../../worker/runtime';
import type { SamplingLayer } from '../../worker/sampling/params';

export const localModelOptions = {
  model: stringOption({ flag: '--model', description: 'model directory, hf:ORG/NAME[@REV], or "default"', default: DEFAULT_SOURCE }),
  convTemplate: stringOption({ flag: '--conv-template', description: 'FastChat template name or "jinja"', default: '' }),
  temperature: floatOption({ flag: '--temperature', description: 'sampling temperature (0 = greedy); default: the model\'s generation_config', default: Number.NaN, defaultLabel: 'model default', min: 0, max: 100 }),
  topP: floatOption({ flag: '--top-p', description: 'nucleus sampling mass', default: Number.NaN, defaultLabel: 'model default', min: 0, max: 1 }),
  topK: intOption({ flag: '--top-k', description: 'top-k sampling (0 = off)', default: -2, defaultLabel: 'model default', min: -1 }),
  repetitionPenalty: floatOption({ flag: '--repetition-penalty', description: 'repetition penalty (1 = off)', default: Number.NaN, defaultLabel: 'model default', min: 0.01, max: 10 }),
  maxTokens: intOption({ flag: '--max-tokens', description: 'new tokens at most', default: 512, min: 1 }),
  seed: intOption({ flag: '--seed', description: 'sampling seed (reproducible output)', default: -1, defaultLabel: 'random', min: -1 }),
  stop: listOption({ flag: '--stop', description: 'stop strings (repeatable)', default: [] }),
  threads: intOption({ flag: '--threads', description: 'onnxruntime threads', default: availableParallelism(), min: 1 }),
  weights: enumOption({ flag: '--weights', description: 'which ONNX weights to load', default: 'auto', choices: WEIGHT_VARIANTS }),
  cacheDir: stringOption({ flag: '--cache-dir', description: 'model cache', default: join(homedir(), '.cache', 'fleetchat') }),
  hfEndpoint: stringOption({ flag: '--hf-endpoint', description: 'Hugging Face hub URL', default: 'https://huggingface.co' }),
  hfToken: optionalStringOption({ flag: '--hf-token', description: 'Hugging Face token' }),
};

export type LocalModelConfig = ConfigOf<typeof localModelOptions>;

/** The request-level sampling layer from the flags (unset flags leave the model's defaults). */
export function samplingFromFlags(config: LocalModelConfig): SamplingLayer {
  const layer: SamplingLayer = { maxTokens: config.maxTokens };
  if (!Number.isNaN(config.temperature)) layer.temperature = config.temperature;
  if (!Number.isNaN(config.topP)) layer.topP = config.topP;
  if (config.topK >= -1) layer.topK = config.topK;
  if (!Number.isNaN(config.repetitionPenalty)) layer.repetitionPenalty = config.repetitionPenalty;
  if (config.seed >= 0) layer.seed = config.seed;
  if (config.stop.length > 0) layer.stop = config.stop;
  return layer;
}

export async function loadLocalModel(config: LocalModelConfig, logger: Logger = silentLogger()): Promise<GenerationRuntime> {
  const defaultChoice = config.model === DEFAULT_SOURCE ? await chooseDefaultModel({ cacheDir: config.cacheDir, hfEndpoint: config.hfEndpoint, hfToken: config.hfToken, weights: config.weights, logger }) : undefined;
  const dir = defaultChoice?.dir ?? (await resolveModelSource(config.model, {
    cacheDir: config.cacheDir,
    hfEndpoint: config.hfEndpoint,
    hfToken: config.hfToken,
    weights: config.weights,
    logger,
  }));
  return loadGenerationRuntime({
    dir,
    source: defaultChoice?.source ?? config.model,
    modelNames: defaultChoice ? [defaultChoice.name] : [],
    convTemplate: config.convTemplate || undefined,
    threads: config.threads,
    weights: config.weights,
    maxConcurrency: 1,
    maxQueue: 1,
    maxPrefillTokens: 1 << 20,
    logger,
  });
}
