/** `--kv-cache auto|fp32|fp16`, shared by create-tiny, import-gguf and import-hf. */
import { enumOption } from '../../common/config';
import type { KvCacheFormat } from '../../model/llama/decoder-graph';
import type { GraphKind } from '../../model/llama/fused-decoder-graph';

export const kvCacheOption = enumOption({
  flag: '--kv-cache',
  description: "precision of a fused graph's KV cache: fp16 halves the bytes per cached position of the fp32 / int8 / int4 fused graphs (as llama.cpp's default F16 cache) and runs only on fleetchat's CPU attention kernel (the ort_device addon, scripts/build-ort-device); fp32 follows the activations and runs on onnxruntime's kernels too; auto: fp16 for --graph fused, fp32 otherwise",
  default: 'auto',
  choices: ['auto', 'fp32', 'fp16'] as const,
});

/** The cache format `--kv-cache` asks for: auto is fp16 for the fused graph (float16-weight graphs keep theirs), else fp32. */
export function resolveKvCache(asked: 'auto' | KvCacheFormat, graph: GraphKind): KvCacheFormat {
  if (asked !== 'auto') return asked;
  return graph === 'fused' ? 'fp16' : 'fp32';
}
