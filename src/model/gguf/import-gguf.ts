/**
 * importGguf: a GGUF file (llama.cpp / Ollama) of the LLaMA family -> our model directory (Hugging Face ONNX layout):
 * config.json, generation_config.json, tokenizer.json rebuilt from the GGUF vocabulary, tokenizer_config.json with
 * the GGUF's chat template, special_tokens_map.json, and one ONNX decoder per weight format (fp32: dequantised
 * float32 weights; int8: the dequantised weights re-quantised to MatMulNBits blocks of 32; int4: the GGUF's own
 * 4-bit blocks where the layer is Q4_0 / Q4_1 / Q4_K, 8-bit blocks where it has more bits; see exact-q4-graph.ts), and on
 * request model.safetensors (the dequantised float32 weights under Hugging Face names; no lm_head.weight where the
 * embeddings are tied — transformers ties it from config.json). The directory is built next to `outDir` and renamed into place, so no reader ever sees half a model.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { buildDecoder } from '../llama/build-decoder';
import type { KvCacheFormat } from '../llama/decoder-graph';
import type { GraphKind } from '../llama/fused-decoder-graph';
import { toHfLlamaConfig, ValidLlamaConfig } from '../llama/llama-config';
import { llamaWeightShapes, parameterCount } from '../llama/llama-weights';
import { writeOnnxModel } from '../onnx/model-writer';
import { onnxFileName, WeightFormat, WEIGHT_FORMATS } from '../quant/nbits-linear';
import { generationConfig, writeJson } from '../tiny/hf-files';
import { writeSafetensors } from '../weights/safetensors';
import { GgufFile, openGguf } from './gguf-file';
import { readGgufLlama } from './gguf-llama';
import { GgufWeightSource } from './gguf-weight-source';
import { useGgufQ4Blocks } from './exact-q4-graph';
import { writeGgufTokenizer } from './tokenizer-files';

/** Bumped whenever the importer would write different files for the same GGUF (invalidates cached imports). */
export const IMPORTER_VERSION = 2;

export interface ImportGgufOptions {
  file: string;
  outDir: string;
  /** Graphs to write (default fp32). */
  weightFormats?: readonly WeightFormat[];
  /**
   * MatMulNBits accuracy_level of the int8 / int4 graphs: 4 (default) rounds activations to 8 bits for
   * onnxruntime's integer kernels, as llama.cpp does; 0 computes in float32 from the weights.
   */
  accuracyLevel?: number;
  /** Replace an existing non-empty outDir (default: refuse). */
  overwrite?: boolean;
  /** standard (default): opset-17 ops; fused: onnxruntime's contrib ops with a KV cache updated in place. */
  graph?: GraphKind;
  /** A fused graph's KV cache: fp32 (default) or fp16 under float32 / int8 / int4 activations (see DecoderBuildOptions.kvCache). */
  kvCache?: KvCacheFormat;
  /** Also write model.safetensors: the dequantised float32 weights, for transformers (default false). */
  safetensors?: boolean;
  logger?: Logger;
}

export interface ImportGgufResult {
  dir: string;
  architecture: string;
  name: string | undefined;
  config: ValidLlamaConfig;
  parameterCount: number;
  /** Tensors per ggml type in the source file, e.g. { Q4_1: 210, F32: 61, Q8_0: 1 }. */
  tensorTypes: Record<string, number>;
  weightFormats: WeightFormat[];
  /**
   * int4 graph only: linear layers computing with the GGUF's own 4-bit blocks (Q4_0 / Q4_1 / Q4_K), and layers
   * the GGUF stores with more bits, written as 8-bit blocks.
   */
  int4?: { exact: number; widened: number };
  onnxBytes: number;
  /** model.safetensors' size (0 when not asked for). */
  safetensorsBytes: number;
  elapsedMs: number;
}

function checkedFormats(formats: readonly string[] | undefined): WeightFormat[] {
  const list = [...new Set(formats ?? ['fp32'])];
  const bad = list.filter((f) => !(WEIGHT_FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || list.length === 0) {
    throw new FleetError('invalid_request', `--weights must be some of ${WEIGHT_FORMATS.join(', ')}, got '${list.join(',')}'`, { param: 'weights' });
  }
  return list as WeightFormat[];
}

function prepareTarget(outDir: string, overwrite: boolean): void {
  if (!existsSync(outDir)) return;
  if (readdirSync(outDir).length > 0 && !overwrite) {
    throw new FleetError('invalid_request', `${outDir} exists and is not empty (choose another --out, or remove it first)`, { param: 'out' });
  }
}

function countTypes(file: GgufFile): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of file.tensors.values()) out[t.typeName] = (out[t.typeName] ?? 0) + 1;
  return out;
}

/** Writes every file but the ONNX graphs. */
function writeTokenizerAndConfigs(file: GgufFile, dir: string, config: ValidLlamaConfig, hf: { modelType: string; architecture: string }): void {
  const ids = writeGgufTokenizer(file.metadata, dir, config.maxPositionEmbeddings);
  if (ids.tokenCount > config.vocabSize) {
    throw new FleetError('invalid_request', `${file.path}: ${ids.tokenCount} tokens but the embedding has only ${config.vocabSize} rows`, { code: 'invalid_gguf' });
  }
  const hfEos = ids.eosTokenIds.length === 1 ? ids.eosTokenIds[0] : ids.eosTokenIds;
  const hfConfig = { ...toHfLlamaConfig(config, { bosTokenId: ids.bosTokenId, eosTokenId: hfEos, padTokenId: ids.padTokenId }), model_type: hf.modelType, architectures: [hf.architecture] };
  writeJson(dir, 'config.json', hfConfig);
  const generation = generationConfig(ids);
  delete generation.do_sample;
  writeJson(dir, 'generation_config.json', generation);
}

export async function importGguf(options: ImportGgufOptions): Promise<ImportGgufResult> {
  const started = Date.now();
  const outDir = resolve(options.outDir);
  const formats = checkedFormats(options.weightFormats);
  prepareTarget(outDir, options.overwrite === true);
  const file = await openGguf(options.file);
  const staging = join(dirname(outDir), `.${basename(outDir)}.importing-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const model = readGgufLlama(file);
    const name = file.metadata.optionalString('general.name');
    options.logger?.info({ file: options.file, architecture: model.arch.name, name, formats }, 'importing GGUF');
    mkdirSync(join(staging, 'onnx'), { recursive: true });
    writeTokenizerAndConfigs(file, staging, model.config, { modelType: model.arch.modelType, architecture: model.arch.hfArchitecture });
    const weights = new GgufWeightSource(file, model);
    let onnxBytes = 0;
    let int4: ImportGgufResult['int4'];
    for (const weightFormat of formats) {
      const graph = options.graph ?? 'standard';
      const metadata = { generator: JSON.stringify({ generator: 'fleetchat model import-gguf', version: IMPORTER_VERSION, source: basename(options.file), weightFormat, ...(graph !== 'standard' ? { graph } : {}), ...(options.kvCache === 'fp16' ? { kvCache: 'fp16' } : {}) }) };
      const spec = buildDecoder(model.config, weights, { graph, weightFormat, metadata, accuracyLevel: options.accuracyLevel, kvCache: options.kvCache });
      if (weightFormat === 'int4') {
        const q4 = useGgufQ4Blocks(spec, file, model, weights);
        int4 = { exact: q4.exact.length, widened: q4.widened.length };
      }
      const written = writeOnnxModel(join(staging, 'onnx', onnxFileName(weightFormat)), spec);
      onnxBytes += written.modelBytes + written.externalBytes;
    }
    const safetensorsBytes = options.safetensors === true ? writeSafetensors(join(staging, 'model.safetensors'), llamaWeightShapes(model.config), weights) : 0;
    if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(staging, outDir);
    return {
      dir: outDir, architecture: model.arch.name, name, config: model.config, parameterCount: parameterCount(model.config),
      tensorTypes: countTypes(file), weightFormats: formats, int4, onnxBytes, safetensorsBytes, elapsedMs: Date.now() - started,
    };
  } finally {
    file.close();
    rmSync(staging, { recursive: true, force: true });
  }
}
