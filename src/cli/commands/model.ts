/**
 * `fleetchat model create-tiny` and `fleetchat model create-encoder`: generate model directories (Hugging Face ONNX
 * layout, deterministic random weights, a real tokenizer) — the test fixtures and the embedded default model.
 */
import type { Command } from 'commander';
import { FleetError } from '../../common/errors';
import { addOptions, boolOption, enumOption, floatOption, intOption, listOption, OptionSpec, readConfig, stringOption } from '../../common/config';
import { createTinyEncoder } from '../../model/encoder/create-tiny-encoder';
import { createTinyModel } from '../../model/tiny/create-tiny-model';
import type { WeightFormat } from '../../model/quant/nbits-linear';
import { TINY_PRESET_NAMES, TinyPresetName } from '../../model/tiny/presets';
import { registerImportGguf } from './model-gguf';
import { registerImportHf } from './model-hf';
import { kvCacheOption, resolveKvCache } from './kv-cache-option';

function optionalInt(flag: string, description: string, min = 1): OptionSpec<number | undefined> {
  return { ...intOption({ flag, description, default: 0, min }), default: undefined, defaultLabel: 'from the preset' };
}

function optionalFloat(flag: string, description: string): OptionSpec<number | undefined> {
  return { ...floatOption({ flag, description, default: 0, min: Number.MIN_VALUE }), default: undefined, defaultLabel: 'from the preset' };
}

function optionalBool(flag: string, description: string): OptionSpec<boolean | undefined> {
  return { ...boolOption({ flag, description, default: false }), placeholder: '<true|false>', default: undefined, defaultLabel: 'from the preset' };
}

const out = stringOption({ flag: '--out', placeholder: '<dir>', description: 'directory to write the model into (created if missing)', default: '' });
const json = boolOption({ flag: '--json', description: 'print the result as one JSON line', default: false });

export const createTinyOptions = {
  out,
  preset: enumOption<TinyPresetName>({ flag: '--preset', description: 'base shape (tiny: tests, small: the embedded default, 100m: benchmarks)', default: 'tiny', choices: TINY_PRESET_NAMES }),
  layers: optionalInt('--layers', 'decoder layers'),
  hidden: optionalInt('--hidden', 'hidden size'),
  heads: optionalInt('--heads', 'attention heads'),
  kvHeads: optionalInt('--kv-heads', 'key/value heads (GQA); must divide --heads'),
  headDim: optionalInt('--head-dim', 'per-head size (default hidden / heads; keep it a multiple of 8)'),
  intermediate: optionalInt('--intermediate', 'MLP (SwiGLU) size'),
  maxPositions: optionalInt('--max-positions', 'context length (max_position_embeddings)'),
  ropeTheta: optionalFloat('--rope-theta', 'RoPE base frequency'),
  tieEmbeddings: optionalBool('--tie-embeddings', 'share the embedding with the lm_head'),
  vocabFrom: { ...stringOption({ flag: '--vocab-from', placeholder: '<pkg>', description: 'tokenizer package: gpt2, qwen2_5 or @lenml/tokenizer-NAME', default: '' }), default: undefined, defaultLabel: 'gpt2' } as OptionSpec<string | undefined>,
  seed: intOption({ flag: '--seed', description: 'weight seed: same seed and shape -> identical bytes', default: 1, min: 0 }),
  externalData: enumOption({ flag: '--external-data', description: 'weights in onnx/model.onnx_data (auto: only past protobuf\'s 2 GB limit)', default: 'auto', choices: ['auto', 'always', 'never'] as const }),
  safetensors: boolOption({ flag: '--safetensors', description: 'also write model.safetensors (LlamaForCausalLM names)', default: true }),
  weights: listOption({ flag: '--weights', description: 'graphs to write: fp32 (onnx/model.onnx), int8 (model_int8.onnx), int4 (model_q4.onnx; MatMulNBits, block 32), fp16 (model_fp16.onnx; with --graph fused only)', default: ['fp32'] }),
  graph: enumOption({ flag: '--graph', description: 'decoder graph: standard (opset-17 ops; loads anywhere, e.g. transformers.js), fused (onnxruntime contrib ops: GroupQueryAttention with an in-place KV cache, SkipSimplifiedLayerNormalization, MatMulNBits, GatherBlockQuantized; int4 / int8 on CPU, fp16 on CUDA) or fused-mha (float32 for CUDA, whose GroupQueryAttention has no float32 kernel: ONNX Attention over a KV cache written in place by TensorScatter, opset 24; --weights fp32 only)', default: 'standard', choices: ['standard', 'fused', 'fused-mha'] as const }),
  kvCache: kvCacheOption,
  json,
};

export const createEncoderOptions = {
  out,
  layers: intOption({ flag: '--layers', description: 'encoder layers', default: 2, min: 1 }),
  hidden: intOption({ flag: '--hidden', description: 'hidden size', default: 64, min: 1 }),
  heads: intOption({ flag: '--heads', description: 'attention heads', default: 4, min: 1 }),
  intermediate: intOption({ flag: '--intermediate', description: 'feed-forward size', default: 256, min: 1 }),
  maxPositions: intOption({ flag: '--max-positions', description: 'longest input', default: 512, min: 1 }),
  vocabFrom: stringOption({ flag: '--vocab-from', placeholder: '<pkg>', description: 'tokenizer package', default: 'gpt2' }),
  seed: intOption({ flag: '--seed', description: 'weight seed', default: 1, min: 0 }),
  json,
};

function requireOut(dir: string): string {
  if (dir === '') throw new FleetError('invalid_request', '--out <dir> is required', { param: 'out' });
  return dir;
}

function report(asJson: boolean, result: Record<string, unknown>, text: string): void {
  process.stdout.write(asJson ? `${JSON.stringify(result)}\n` : `${text}\n`);
}

export function register(program: Command): void {
  const cmd = program.command('model').description('generate model directories (Hugging Face ONNX layout)');
  addOptions(cmd.command('create-tiny').description('a LLaMA-architecture decoder with deterministic random weights and a real tokenizer'), createTinyOptions)
    .action(async (opts: Record<string, unknown>) => {
      const { out: dir, json: asJson, weights, ...shape } = readConfig(createTinyOptions, opts);
      const r = await createTinyModel({ ...shape, kvCache: resolveKvCache(shape.kvCache, shape.graph), weightFormats: weights as WeightFormat[], outDir: requireOut(dir) });
      const c = r.config;
      report(asJson, { dir: r.dir, parameters: r.parameterCount, onnx_bytes: r.onnxBytes, safetensors_bytes: r.safetensorsBytes, elapsed_ms: r.elapsedMs, config: c },
        `wrote ${r.dir}: ${(r.parameterCount / 1e6).toFixed(1)}M parameters (${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads / ${c.numKvHeads} kv, vocab ${c.vocabSize}), ` +
        `onnx ${(r.onnxBytes / 1e6).toFixed(1)} MB, in ${(r.elapsedMs / 1000).toFixed(1)} s`);
    });
  addOptions(cmd.command('create-encoder').description('a BERT-style embedding encoder (last_hidden_state) with a real tokenizer'), createEncoderOptions)
    .action(async (opts: Record<string, unknown>) => {
      const { out: dir, json: asJson, ...shape } = readConfig(createEncoderOptions, opts);
      const r = await createTinyEncoder({ ...shape, outDir: requireOut(dir) });
      report(asJson, { dir: r.dir, elapsed_ms: r.elapsedMs, config: r.config }, `wrote ${r.dir}: encoder, ${r.config.numLayers} layers, hidden ${r.config.hiddenSize}, in ${(r.elapsedMs / 1000).toFixed(1)} s`);
    });
  registerImportGguf(cmd);
  registerImportHf(cmd);
}
