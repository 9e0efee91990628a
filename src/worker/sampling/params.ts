/**
 * Sampling parameters: layering (worker defaults < generation_config.json < ModelWorker defaults < request)
 * and validation into a `ValidSamplingParams` the engine can trust.
 */
import { FleetError } from '../../common/errors';
import type { SamplingParams } from '../../common/gen/worker';
import { checkLimit, checkRequestLimit, DEFAULT_REQUEST_LIMITS, LIST_LIMITS, type RequestLimits } from '../../common/request-limits';

export interface ValidSamplingParams {
  temperature: number; // 0 = greedy
  topP: number; // (0, 1]; 1 = disabled
  topK: number; // 0 = disabled
  minP: number; // [0, 1]; 0 = disabled
  repetitionPenalty: number; // 1 = disabled
  presencePenalty: number;
  frequencyPenalty: number;
  seed: number | undefined;
  maxTokens: number | undefined; // undefined = up to the context length
  stop: string[];
  stopTokenIds: number[];
  logitBias: Map<number, number>;
  ignoreEos: boolean;
  topLogprobs: number | undefined; // undefined = no logprobs
  echo: boolean;
  includeStopStrInOutput: boolean;
  skipSpecialTokens: boolean;
}

/** A partial layer: any subset of the optional fields. */
export type SamplingLayer = Partial<SamplingParams>;

export const WORKER_DEFAULTS: ValidSamplingParams = {
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  repetitionPenalty: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  seed: undefined,
  maxTokens: undefined,
  stop: [],
  stopTokenIds: [],
  logitBias: new Map(),
  ignoreEos: false,
  topLogprobs: undefined,
  echo: false,
  includeStopStrInOutput: false,
  skipSpecialTokens: true,
};

function invalid(param: string, message: string): FleetError {
  return new FleetError('invalid_request', `${param}: ${message}`, { param });
}


/** Applies one layer over a validated base; the layer's set fields win. Bools/lists only override when set. */
function applyLayer(base: ValidSamplingParams, layer: SamplingLayer, vocabSize: number, limits: RequestLimits): ValidSamplingParams {
  const out = { ...base };
  if (layer.temperature !== undefined) out.temperature = checkLimit('temperature', layer.temperature);
  if (layer.topP !== undefined) out.topP = checkLimit('top_p', layer.topP);
  if (layer.topK !== undefined) out.topK = topKOf(checkLimit('top_k', layer.topK), vocabSize);
  if (layer.minP !== undefined) out.minP = checkLimit('min_p', layer.minP);
  if (layer.repetitionPenalty !== undefined) out.repetitionPenalty = checkLimit('repetition_penalty', layer.repetitionPenalty);
  if (layer.presencePenalty !== undefined) out.presencePenalty = checkLimit('presence_penalty', layer.presencePenalty);
  if (layer.frequencyPenalty !== undefined) out.frequencyPenalty = checkLimit('frequency_penalty', layer.frequencyPenalty);
  if (layer.seed !== undefined) out.seed = checkLimit('seed', layer.seed);
  if (layer.maxTokens !== undefined) out.maxTokens = checkLimit('max_tokens', layer.maxTokens);
  if (layer.stop !== undefined && layer.stop.length > 0) out.stop = checkStops(layer.stop, limits);
  if (layer.stopTokenIds !== undefined && layer.stopTokenIds.length > 0) out.stopTokenIds = checkTokenIds('stop_token_ids', layer.stopTokenIds, vocabSize);
  if (layer.logitBias !== undefined && Object.keys(layer.logitBias).length > 0) out.logitBias = checkBias(layer.logitBias, vocabSize, limits);
  if (layer.ignoreEos) out.ignoreEos = true;
  if (layer.topLogprobs !== undefined) out.topLogprobs = checkLimit('top_logprobs', layer.topLogprobs);
  if (layer.echo) out.echo = true;
  if (layer.includeStopStrInOutput) out.includeStopStrInOutput = true;
  if (layer.skipSpecialTokens !== undefined) out.skipSpecialTokens = layer.skipSpecialTokens;
  return out;
}

/** -1 and 0 disable top-k, and so does a value that keeps the whole vocabulary. */
function topKOf(topK: number, vocabSize: number): number {
  return topK <= 0 || topK >= vocabSize ? 0 : topK;
}

function checkStops(stop: string[], limits: RequestLimits): string[] {
  checkRequestLimit(limits, 'maxStopStrings', stop.length, 'stop', 'stop strings');
  stop.forEach((s, i) => {
    if (s.length === 0) throw invalid('stop', 'stop strings must not be empty');
    checkRequestLimit(limits, 'maxStopChars', s.length, `stop[${i}]`, 'characters');
  });
  return [...new Set(stop)];
}

function checkTokenIds(param: string, ids: number[], vocabSize: number): number[] {
  if (ids.length > LIST_LIMITS.maxStopTokenIds) throw invalid(param, `at most ${LIST_LIMITS.maxStopTokenIds} token ids, got ${ids.length}`);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw invalid(param, `token id ${id} is outside the vocabulary [0, ${vocabSize})`);
  }
  return [...new Set(ids)];
}

function checkBias(bias: Record<number, number>, vocabSize: number, limits: RequestLimits): Map<number, number> {
  const out = new Map<number, number>();
  const entries = Object.entries(bias);
  checkRequestLimit(limits, 'maxLogitBiasEntries', entries.length, 'logit_bias', 'entries');
  for (const [key, value] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw invalid('logit_bias', `token id ${key} is outside the vocabulary [0, ${vocabSize})`);
    out.set(id, checkLimit('logit_bias', value));
  }
  return out;
}

/**
 * Resolves the layers (lowest precedence first) into valid parameters.
 * `vocabSize` bounds token ids in stop_token_ids and logit_bias.
 */
export function resolveSamplingParams(layers: SamplingLayer[], vocabSize: number, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): ValidSamplingParams {
  let params = WORKER_DEFAULTS;
  for (const layer of layers) params = applyLayer(params, layer, vocabSize, limits);
  return params;
}

/** The generation_config.json fields that map onto sampling parameters. */
export interface GenerationConfigJson {
  do_sample?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
  max_new_tokens?: number;
  eos_token_id?: number | number[];
  bos_token_id?: number;
  pad_token_id?: number;
}

/** A layer from a model's generation_config.json (do_sample=false means greedy). */
export function layerFromGenerationConfig(gc: GenerationConfigJson): SamplingLayer {
  const layer: SamplingLayer = {};
  if (gc.do_sample === false) layer.temperature = 0;
  else if (typeof gc.temperature === 'number') layer.temperature = gc.temperature;
  if (typeof gc.top_p === 'number') layer.topP = gc.top_p;
  if (typeof gc.top_k === 'number') layer.topK = gc.top_k;
  if (typeof gc.min_p === 'number') layer.minP = gc.min_p;
  if (typeof gc.repetition_penalty === 'number') layer.repetitionPenalty = gc.repetition_penalty;
  return layer;
}
