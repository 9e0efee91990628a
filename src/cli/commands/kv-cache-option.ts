/** `--kv-cache fp32|fp16`, shared by create-tiny, import-gguf and import-hf. */
import { enumOption } from '../../common/config';
import { KV_CACHE_FORMATS } from '../../model/llama/decoder-graph';

export const kvCacheOption = enumOption({
  flag: '--kv-cache',
  description: "precision of a fused graph's KV cache (--graph fused): fp32 follows the activations; fp16 halves the bytes per cached position of the fp32 / int8 / int4 graphs (llama.cpp's default F16 cache) — such a graph runs only on fleetchat's CPU attention kernel (the ort_device addon, scripts/build-ort-device)",
  default: 'fp32',
  choices: KV_CACHE_FORMATS,
});
