/**
 * llama.cpp applies RoPE to LLaMA-architecture models in "normal" (GPT-J, interleaved) style: it rotates the pairs
 * (x[2i], x[2i+1]) of each head. Hugging Face's LlamaForCausalLM rotates halves: (x[i], x[i + headDim/2]).
 * convert_hf_to_gguf.py therefore reorders the output rows of q_proj and k_proj of every head so that
 * GGUF row 2i + j holds Hugging Face row j * headDim/2 + i (j in {0, 1}). Our decoder graph rotates halves like
 * Hugging Face, so the importer undoes that reordering. Qwen2 GGUFs use llama.cpp's NeoX (rotate-half) style and are
 * stored unpermuted.
 */
import { FleetError } from '../../common/errors';

/**
 * Reorders the rows of a [heads * headDim, cols] matrix (or a [heads * headDim] bias, cols = 1) from llama.cpp's
 * interleaved layout back to Hugging Face's rotate-half layout.
 */
export function unpermuteRopeRows(data: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  if (headDim % 2 !== 0 || data.length !== heads * headDim * cols) {
    throw new FleetError('invalid_request', `cannot undo the RoPE row order of a tensor with ${data.length} values as ${heads} heads x ${headDim} x ${cols}`);
  }
  const half = headDim / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (base + 2 * i + j) * cols;
        const to = (base + j * half + i) * cols;
        out.set(data.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}
