/** `fleetchat model import-hf DIR --out OUT [--lora-base BASE]`: a Hugging Face checkpoint (or LoRA adapter) -> our model layout. */
import type { Command } from 'commander';
import { addOptions, boolOption, enumOption, listOption, readConfig, stringOption } from '../../common/config';
import { FleetError } from '../../common/errors';
import { importHf } from '../../model/hf/import-hf';
import type { WeightFormat } from '../../model/quant/nbits-linear';
import { kvCacheOption, resolveKvCache } from './kv-cache-option';

export const importHfOptions = {
  out: stringOption({ flag: '--out', placeholder: '<dir>', description: 'model directory to write (must not exist or be empty, unless --overwrite)', default: '' }),
  loraBase: stringOption({ flag: '--lora-base', placeholder: '<dir>', description: 'base model of a LoRA adapter DIR (default: the adapter\'s base_model_name_or_path)', default: '' }),
  weights: listOption({ flag: '--weights', description: 'graphs to write: fp32 (onnx/model.onnx), int8 (model_int8.onnx), int4 (model_q4.onnx; MatMulNBits, block 32), fp16 (model_fp16.onnx; with --graph fused only)', default: ['fp32'] }),
  graph: enumOption({ flag: '--graph', description: 'decoder graph: standard (opset-17 ops; loads anywhere, e.g. transformers.js), fused (onnxruntime contrib ops: GroupQueryAttention with an in-place KV cache, SkipSimplifiedLayerNormalization, MatMulNBits, GatherBlockQuantized; int4 / int8 on CPU, fp16 on CUDA) or fused-mha (float32 for CUDA, whose GroupQueryAttention has no float32 kernel: ONNX Attention over a KV cache written in place by TensorScatter, opset 24; --weights fp32 only)', default: 'standard', choices: ['standard', 'fused', 'fused-mha'] as const }),
  kvCache: kvCacheOption,
  overwrite: boolOption({ flag: '--overwrite', description: 'replace a non-empty --out directory', default: false }),
  json: boolOption({ flag: '--json', description: 'print the result as one JSON line', default: false }),
};

export function registerImportHf(model: Command): void {
  addOptions(
    model.command('import-hf').argument('<dir>', 'Hugging Face checkpoint directory (config.json, model.safetensors, tokenizer.json) of the LLaMA family, or a LoRA adapter')
      .description('import a Hugging Face LLaMA / SmolLM2 / Mistral / Qwen2 checkpoint (e.g. the output of jobs train; a LoRA adapter is merged into its base) as ONNX'),
    importHfOptions,
  ).action(async (dir: string, opts: Record<string, unknown>) => {
    const c = readConfig(importHfOptions, opts);
    if (c.out === '') throw new FleetError('invalid_request', '--out <dir> is required', { param: 'out' });
    const r = await importHf({ dir, outDir: c.out, loraBase: c.loraBase === '' ? undefined : c.loraBase, weightFormats: c.weights as WeightFormat[], overwrite: c.overwrite, graph: c.graph, kvCache: resolveKvCache(c.kvCache, c.graph) });
    const m = r.config;
    process.stdout.write(c.json
      ? `${JSON.stringify({ dir: r.dir, model_type: r.modelType, parameters: r.parameterCount, lora_layers: r.loraLayers, weights: r.weightFormats, onnx_bytes: r.onnxBytes, elapsed_ms: r.elapsedMs, config: m })}\n`
      : `imported ${dir} (${r.modelType}, ${(r.parameterCount / 1e6).toFixed(1)}M parameters; ${m.numLayers} layers, hidden ${m.hiddenSize}, ${m.numHeads} heads / ${m.numKvHeads} kv` +
        `${r.loraLayers > 0 ? `; ${r.loraLayers} LoRA layers merged` : ''}) into ${r.dir}: ${r.weightFormats.join(', ')}, onnx ${(r.onnxBytes / 1e6).toFixed(1)} MB, in ${(r.elapsedMs / 1000).toFixed(1)} s\n`);
  });
}
