/** `fleetchat model import-gguf FILE --out DIR [--weights fp32,int8,int4] [--safetensors]`: a llama.cpp / Ollama GGUF -> our model layout. */
import type { Command } from 'commander';
import { addOptions, boolOption, enumOption, listOption, readConfig, stringOption } from '../../common/config';
import { FleetError } from '../../common/errors';
import { importGguf } from '../../model/gguf/import-gguf';
import type { WeightFormat } from '../../model/quant/nbits-linear';
import { kvCacheOption, resolveKvCache } from './kv-cache-option';

export const importGgufOptions = {
  out: stringOption({ flag: '--out', placeholder: '<dir>', description: 'model directory to write (must not exist or be empty, unless --overwrite)', default: '' }),
  weights: listOption({ flag: '--weights', description: 'graphs to write: fp32 (onnx/model.onnx, dequantised), int8 (model_int8.onnx), int4 (model_q4.onnx; MatMulNBits, block 32), fp16 (model_fp16.onnx; with --graph fused only)', default: ['fp32'] }),
  graph: enumOption({ flag: '--graph', description: 'decoder graph: standard (opset-17 ops; loads anywhere, e.g. transformers.js), fused (onnxruntime contrib ops: GroupQueryAttention with an in-place KV cache, SkipSimplifiedLayerNormalization, MatMulNBits, GatherBlockQuantized; int4 / int8 on CPU, fp16 on CUDA) or fused-mha (float32 for CUDA, whose GroupQueryAttention has no float32 kernel: ONNX Attention over a KV cache written in place by TensorScatter, opset 24; --weights fp32 only)', default: 'standard', choices: ['standard', 'fused', 'fused-mha'] as const }),
  kvCache: kvCacheOption,
  safetensors: boolOption({ flag: '--safetensors', description: 'also write model.safetensors (the dequantised float32 weights under Hugging Face names, for transformers)', default: false }),
  overwrite: boolOption({ flag: '--overwrite', description: 'replace a non-empty --out directory', default: false }),
  json: boolOption({ flag: '--json', description: 'print the result as one JSON line', default: false }),
};

export function registerImportGguf(model: Command): void {
  addOptions(
    model.command('import-gguf').argument('<file>', 'GGUF file (LLaMA family: llama — LLaMA, SmolLM2, Mistral — or qwen2)')
      .description('import a GGUF model (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) as ONNX with its tokenizer and chat template'),
    importGgufOptions,
  ).action(async (file: string, opts: Record<string, unknown>) => {
    const c = readConfig(importGgufOptions, opts);
    if (c.out === '') throw new FleetError('invalid_request', '--out <dir> is required', { param: 'out' });
    const r = await importGguf({ file, outDir: c.out, weightFormats: c.weights as WeightFormat[], overwrite: c.overwrite, graph: c.graph, kvCache: resolveKvCache(c.kvCache, c.graph), safetensors: c.safetensors });
    const m = r.config;
    const types = Object.entries(r.tensorTypes).map(([t, n]) => `${n} ${t}`).join(', ');
    process.stdout.write(c.json
      ? `${JSON.stringify({ dir: r.dir, architecture: r.architecture, name: r.name ?? null, parameters: r.parameterCount, tensor_types: r.tensorTypes, weights: r.weightFormats, graph: c.graph, kv_cache: resolveKvCache(c.kvCache, c.graph), int4: r.int4 ?? null, onnx_bytes: r.onnxBytes, safetensors_bytes: r.safetensorsBytes, elapsed_ms: r.elapsedMs, config: m })}\n`
      : `imported ${r.name ?? file} (${r.architecture}, ${(r.parameterCount / 1e6).toFixed(1)}M parameters; ${m.numLayers} layers, hidden ${m.hiddenSize}, ` +
        `${m.numHeads} heads / ${m.numKvHeads} kv, vocab ${m.vocabSize}; tensors: ${types}) into ${r.dir}: ${r.weightFormats.join(', ')}` +
        `${r.int4 ? ` (int4: ${r.int4.exact} layers on the GGUF's 4-bit blocks, ${r.int4.widened} as 8-bit)` : ''}, ` +
        `onnx ${(r.onnxBytes / 1e6).toFixed(1)} MB${r.safetensorsBytes > 0 ? `, model.safetensors ${(r.safetensorsBytes / 1e6).toFixed(1)} MB` : ''}, in ${(r.elapsedMs / 1000).toFixed(1)} s\n`);
  });
}
