/**
 * Loading a generation model into a runtime: resolve the source, read config.json / generation_config.json,
 * load the tokenizer and pick the conversation template, open the ONNX session, and start the engine. What each
 * request's prompt goes through is in prompt.ts.
 */
import { basename } from 'node:path';
import { FleetError } from '../../common/errors';
import { selectTemplate } from '../../chat/select';
import { loadTokenizer, type LoadedTokenizer } from '../../chat/tokenizer';
import { ModelInfo, ModelKind } from '../../common/gen/worker';
import type { Logger } from '../../common/log';
import type { EngineObserver } from '../engine/engine-types';
import { Scheduler } from '../engine/scheduler';
import { wholeCharacterTexts } from '../engine/streamed-text';
import type { TokenInfoSource } from '../engine/sequence';
import type { AttentionKernel } from '../engine/native-session';
import { openThreadedDecoderSession } from '../engine/session-thread';
import { describeDevice, type ResolvedDevice } from '../device/execution-provider';
import { graphBytes, gpuKvBudgetBytes } from '../device/kv-budget';
import { deviceInfoFields, openOnDevice } from '../device/open-on-device';
import { tokenBytes, vocabEncodingOf, type VocabEncoding } from '../engine/token-bytes';
import { Grammars, grammarVocabType, type GrammarVocab } from '../grammar/grammars';
import type { GenerationRuntime } from '../runtime';
import { selectToolFormat } from '../tools/select-format';
import { layerFromGenerationConfig, type SamplingLayer } from '../sampling/params';
import { readGenerationConfig, readModelConfig } from './config';
import { findOnnxFile, type WeightVariant } from './files';
import { promptBuilder } from './prompt';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';

export interface GenerationLoadOptions {
  dir: string;
  /** How the model was named on the command line (directory or hf: id), for info and template matching. */
  source: string;
  modelNames: string[];
  convTemplate?: string;
  /** Tool-call parser name (`--tool-parser`); default: chosen from the model. */
  toolParser?: string;
  threads: number;
  /** Where the model runs (default: the CPU). */
  device?: ResolvedDevice;
  /** KV cache in device memory through the native addon (default: on for CUDA when it is built). */
  nativeKv?: boolean;
  /** A fused graph's GroupQueryAttention kernel on the CPU (default: fusedAttentionKernel's choice, the addon's for a float32 cache; bench:real compares both). */
  fusedAttention?: AttentionKernel;
  /** Greedy runs of a fused graph (see fused-decode.ts; default on; false: one round trip per pass, for the benchmarks' A/B). */
  greedyRuns?: boolean;
  weights: WeightVariant;
  maxConcurrency: number;
  maxQueue: number;
  maxPrefillTokens: number;
  /** KV-cache memory budget in bytes (admission control); default: half of this machine's memory. */
  maxKvBytes?: number;
  /** Memory for prefix reuse (KV of finished sequences), in bytes; 0 or unset = off. */
  prefixCacheBytes?: number;
  /** ModelWorker-level sampling defaults (between generation_config.json and the request). */
  samplingDefaults?: SamplingLayer;
  observer?: EngineObserver;
  logger: Logger;
}

/** `appendable`: the decoder is ByteLevel alone (no Strip / Replace after it), so whole-character tokens append as they are. */
export function tokenInfoSource(tokenizer: LoadedTokenizer, encoding: VocabEncoding, appendable = false): TokenInfoSource {
  const cache = new Map<number, { text: string; bytes: Uint8Array }>();
  const info = (id: number): { text: string; bytes: Uint8Array } => {
    let entry = cache.get(id);
    if (!entry) {
      const raw = tokenizer.idToToken(id) ?? '';
      const special = tokenizer.specialTokenIds.has(id);
      entry = { text: tokenizer.decode([id]), bytes: tokenBytes(raw, special ? 'plain' : encoding) };
      if (cache.size < 200_000) cache.set(id, entry);
    }
    return entry;
  };
  return {
    // The tokenizer's own method, not a wrapper: the engine's detokenizer calls it for tokens appendText does not cover.
    decode: tokenizer.decode.bind(tokenizer),
    tokenInfo: info,
    // Byte-level vocabularies: a token's text appends as it is when its bytes are whole characters.
    ...(appendable ? { appendText: wholeCharacterTexts(info, tokenizer.specialTokenIds) } : {}),
  };
}

/** The vocabulary for xgrammar: raw token strings, "" for special tokens (never allowed by a grammar). */
function grammarVocab(tokenizer: LoadedTokenizer, encoding: VocabEncoding, vocabSize: number, stopTokenIds: number[]): GrammarVocab {
  const encodedVocab: string[] = [];
  for (let id = 0; id < vocabSize; id++) encodedVocab.push(tokenizer.specialTokenIds.has(id) ? '' : (tokenizer.idToToken(id) ?? ''));
  return { encodedVocab, vocabType: grammarVocabType(encoding), vocabSize, stopTokenIds };
}

/** Half of the machine's memory: the KV budget when none is configured (the CPU execution provider holds the cache in RAM). */
export function defaultKvBudgetBytes(): number {
  return Math.floor(totalmem() / 2);
}

export async function loadGenerationRuntime(options: GenerationLoadOptions): Promise<GenerationRuntime> {
  const config = readModelConfig(options.dir);
  if (config.family !== 'decoder') throw new FleetError('invalid_request', `${options.dir} holds a ${config.architecture} encoder; load it as an embedding model`);
  const tokenizer = await loadTokenizer(options.dir);
  const tokenizerJson = JSON.parse(readFileSync(join(options.dir, 'tokenizer.json'), 'utf8')) as { decoder?: { type?: string } | null };
  const modelNames = options.modelNames.length > 0 ? options.modelNames : [basename(options.dir)];
  const selection = selectTemplate({ modelPath: options.source, modelNames, override: options.convTemplate ?? '', tokenizerConfig: tokenizer.chat, peftBaseModel: tokenizer.peftBaseModel });
  options.logger.info({ template: selection.templateName, reason: selection.reason }, 'conversation template selected');
  const tool = selectToolFormat({ override: options.toolParser, modelPath: options.source, modelNames, selection });
  options.logger.info({ toolParser: tool.format.name, reason: tool.reason }, 'tool-call parser selected');
  const onnxPath = findOnnxFile(options.dir, options.weights);
  const { session, device } = await openOnDevice(options.device, (d) => openThreadedDecoderSession(onnxPath, { threads: options.threads, device: d, nativeKv: options.nativeKv, fusedAttention: options.fusedAttention }), options.logger);
  const eos = [...new Set([...config.eosTokenIds, ...tokenizer.eosTokenIds])];
  const encoding = vocabEncodingOf(tokenizerJson);
  const tokens = tokenInfoSource(tokenizer, encoding, tokenizerJson.decoder?.type === 'ByteLevel');
  let vocab: GrammarVocab | undefined;
  const grammars = new Grammars(() => (vocab ??= grammarVocab(tokenizer, encoding, config.vocabSize, eos)));
  const engine = new Scheduler(session, {
    maxConcurrency: options.maxConcurrency,
    maxQueue: options.maxQueue,
    maxPrefillTokens: options.maxPrefillTokens,
    // With the cache on the GPU the budget is GPU memory; otherwise (CPU, or KV via the host) half the host's.
    maxKvBytes: options.maxKvBytes ?? (session.kvOnDevice && device.gpuMemoryBytes > 0 ? gpuKvBudgetBytes(device.gpuMemoryBytes, graphBytes(onnxPath)) : defaultKvBudgetBytes()),
    prefixCacheBytes: session.kvOnDevice ? 0 : options.prefixCacheBytes ?? 0,
    contextLength: config.contextLength,
    eosTokenIds: eos,
    vocab: config.vocabSize,
    tokenizer: tokens,
    observer: options.observer,
    greedyRuns: options.greedyRuns,
  });
  const info = ModelInfo.fromPartial({
    modelNames,
    kind: ModelKind.MODEL_KIND_GENERATION,
    contextLength: config.contextLength,
    convTemplate: selection.templateName,
    architecture: config.architecture,
    vocabSize: config.vocabSize,
    eosTokenIds: eos,
    source: options.source,
    ...deviceInfoFields(device),
  });
  const layers: SamplingLayer[] = [layerFromGenerationConfig(readGenerationConfig(options.dir))];
  if (options.samplingDefaults) layers.push(options.samplingDefaults);
  const { kv } = session;
  const kvSummary = { layers: kv.layers, kvHeads: kv.kvHeads, headDim: kv.headDim, dtype: kv.dtype };
  options.logger.info({ model: modelNames, onnx: onnxPath, kv: kvSummary, trimsLogits: session.trimsLogits, contextLength: config.contextLength, device: describeDevice(device), kvOnDevice: session.kvOnDevice ?? false }, 'model loaded');
  return {
    kind: 'generation',
    info,
    engine,
    prompts: promptBuilder({ tokenizer, selection, vocabSize: config.vocabSize, names: modelNames, source: options.source, toolFormat: tool.format }),
    tokenizer: tokens,
    grammars,
    toolFormat: tool.format,
    samplingLayers: layers,
    release: () => session.release(),
  };
}
