/**
 * importHf: a Hugging Face LLaMA-family checkpoint (safetensors + config.json + tokenizer files) — for example what
 * `fleetchat jobs train` writes — or a LoRA adapter merged into its base, -> our model directory (Hugging Face ONNX
 * layout) through the same graph builder the GGUF importer and the generator use. Built next to `outDir` and renamed
 * into place.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { buildDecoder } from '../llama/build-decoder';
import type { KvCacheFormat } from '../llama/decoder-graph';
import type { GraphKind } from '../llama/fused-decoder-graph';
import { toHfLlamaConfig, type ValidLlamaConfig } from '../llama/llama-config';
import { parameterCount } from '../llama/llama-weights';
import { writeOnnxModel } from '../onnx/model-writer';
import { onnxFileName, WEIGHT_FORMATS, type WeightFormat } from '../quant/nbits-linear';
import { generationConfig, writeJson } from '../tiny/hf-files';
import type { WeightSource } from '../weights/weight-source';
import { readHfConfig } from './hf-config';
import { HfCheckpointWeights } from './hf-weights';
import { isLoraAdapter, LoraMergedWeights, readAdapterConfig } from './lora-merge';

export const HF_IMPORTER_VERSION = 1;
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'generation_config.json'];

export interface ImportHfOptions {
  /** The checkpoint, or a LoRA adapter directory (adapter_config.json) whose base is loraBase or named by the adapter. */
  dir: string;
  loraBase?: string;
  outDir: string;
  weightFormats?: readonly WeightFormat[];
  overwrite?: boolean;
  /** standard (default): opset-17 ops; fused: onnxruntime's contrib ops with a KV cache updated in place. */
  graph?: GraphKind;
  /** A fused graph's KV cache: fp32 (default) or fp16 under float32 / int8 / int4 activations (see DecoderBuildOptions.kvCache). */
  kvCache?: KvCacheFormat;
  logger?: Logger;
}

export interface ImportHfResult {
  dir: string;
  config: ValidLlamaConfig;
  modelType: string;
  parameterCount: number;
  loraLayers: number;
  weightFormats: WeightFormat[];
  onnxBytes: number;
  elapsedMs: number;
}

function formatsOf(list: readonly string[] | undefined): WeightFormat[] {
  const out = [...new Set(list ?? ['fp32'])];
  if (out.length === 0 || out.some((f) => !(WEIGHT_FORMATS as readonly string[]).includes(f))) {
    throw new FleetError('invalid_request', `--weights must be some of ${WEIGHT_FORMATS.join(', ')}, got '${out.join(',')}'`, { param: 'weights' });
  }
  return out as WeightFormat[];
}

/** The base checkpoint directory and the weights (merged with the adapter when `dir` is one). */
function openWeights(dir: string, loraBase: string | undefined): { base: string; weights: WeightSource; loraLayers: number; tokenizerDir: string } {
  if (!isLoraAdapter(dir)) {
    if (loraBase !== undefined) throw new FleetError('invalid_request', `--lora-base given, but ${dir} has no adapter_config.json`, { param: 'lora-base' });
    return { base: dir, weights: new HfCheckpointWeights(dir), loraLayers: 0, tokenizerDir: dir };
  }
  const named = readAdapterConfig(dir).base_model_name_or_path ?? undefined;
  const base = loraBase ?? named;
  if (base === undefined || !existsSync(join(base, 'config.json'))) {
    throw new FleetError('invalid_request', `${dir} is a LoRA adapter: give its base model directory with --lora-base${named ? ` (the adapter names '${named}', which is not a local model directory)` : ''}`, { param: 'lora-base' });
  }
  const merged = new LoraMergedWeights(new HfCheckpointWeights(base), dir);
  return { base, weights: merged, loraLayers: merged.adaptedLayers, tokenizerDir: existsSync(join(dir, 'tokenizer.json')) ? dir : base };
}

export async function importHf(options: ImportHfOptions): Promise<ImportHfResult> {
  const started = Date.now();
  const outDir = resolve(options.outDir);
  const formats = formatsOf(options.weightFormats);
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && options.overwrite !== true) {
    throw new FleetError('invalid_request', `${outDir} exists and is not empty (choose another --out, or --overwrite)`, { param: 'out' });
  }
  const { base, weights, loraLayers, tokenizerDir } = openWeights(options.dir, options.loraBase);
  const hf = readHfConfig(base);
  if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) throw new FleetError('invalid_request', `${tokenizerDir}: tokenizer.json is missing (the worker needs it)`, { code: 'invalid_checkpoint' });
  const staging = join(dirname(outDir), `.${basename(outDir)}.importing-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    mkdirSync(join(staging, 'onnx'), { recursive: true });
    for (const name of TOKENIZER_FILES) if (existsSync(join(tokenizerDir, name))) copyFileSync(join(tokenizerDir, name), join(staging, name));
    const eos = Array.isArray(hf.eosTokenId) ? hf.eosTokenId : [hf.eosTokenId];
    writeJson(staging, 'config.json', { ...toHfLlamaConfig(hf.config, { bosTokenId: hf.bosTokenId, eosTokenId: hf.eosTokenId, padTokenId: hf.padTokenId }), model_type: hf.modelType, architectures: [hf.architecture] });
    if (!existsSync(join(staging, 'generation_config.json'))) writeJson(staging, 'generation_config.json', generationConfig({ bosTokenId: hf.bosTokenId, eosTokenIds: eos, padTokenId: hf.padTokenId }));
    options.logger?.info({ dir: options.dir, base, loraLayers, formats }, 'importing Hugging Face checkpoint');
    let onnxBytes = 0;
    for (const weightFormat of formats) {
      const metadata = { generator: JSON.stringify({ generator: 'fleetchat model import-hf', version: HF_IMPORTER_VERSION, source: basename(resolve(options.dir)), weightFormat, ...(options.kvCache === 'fp16' ? { kvCache: 'fp16' } : {}) }) };
      const spec = buildDecoder(hf.config, weights, { graph: options.graph, weightFormat, metadata, kvCache: options.kvCache });
      const written = writeOnnxModel(join(staging, 'onnx', onnxFileName(weightFormat)), spec);
      onnxBytes += written.modelBytes + written.externalBytes;
    }
    if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(staging, outDir);
    return { dir: outDir, config: hf.config, modelType: hf.modelType, parameterCount: parameterCount(hf.config), loraLayers, weightFormats: formats, onnxBytes, elapsedMs: Date.now() - started };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
