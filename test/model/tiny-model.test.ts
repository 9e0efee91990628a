/** The generated model directory: Hugging Face layout, config, tokenizer with ChatML, safetensors naming, determinism. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { createTinyModel, TinyModelResult } from '../../src/model/tiny/create-tiny-model';
import { ModelProto } from '../../src/model/onnx/onnx';
import { greedyTokens, openDecoder } from './decoder-session';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-tiny-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON fields
type Json = Record<string, any>;
const readJson = (dir: string, name: string): Json => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Parses a safetensors header with nothing but the format's definition. */
function safetensorsHeader(path: string): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  expect((8 + length) % 8).toBe(0);
  const end = Math.max(...Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => (v as Json).data_offsets[1] as number));
  expect(bytes.byteLength).toBe(8 + length + end);
  return header;
}

describe('createTinyModel (gpt2 tokenizer, tiny preset)', () => {
  let made: TinyModelResult;
  const dir = join(tmp, 'tiny');
  beforeAll(async () => {
    made = await createTinyModel({ outDir: dir, preset: 'tiny' });
  });

  it('writes the Hugging Face ONNX layout', () => {
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readdirSync(join(dir, 'onnx'))).toEqual(['model.onnx']);
  });

  it('config.json describes a LlamaForCausalLM of the preset shape', () => {
    const config = readJson(dir, 'config.json');
    expect(config).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 2, head_dim: 16, vocab_size: 50259, tie_word_embeddings: true, torch_dtype: 'float32', bos_token_id: 50256,
    });
    expect(config.eos_token_id).toEqual([50258, 50256]);
    expect(readJson(dir, 'generation_config.json').eos_token_id).toEqual([50258, 50256]);
    expect(made.parameterCount).toBe(50259 * 64 + 2 * (64 + 64 * 128 + 64 * 64 + 64 + 3 * 64 * 176) + 64);
  });

  it('the tokenizer has ChatML tokens and template; the chat template renders and encodes to those tokens', async () => {
    const config = readJson(dir, 'tokenizer_config.json');
    expect(config.eos_token).toBe('<|im_end|>');
    expect(config.chat_template).toContain('<|im_start|>');
    const tokenizer = new Tokenizer(readJson(dir, 'tokenizer.json'), config);
    const ids = tokenizer.encode('<|im_start|>user\nHello world<|im_end|>\n', { add_special_tokens: false }).ids;
    expect(ids[0]).toBe(50257);
    expect(ids).toContain(50258);
    expect(tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })).toBe('<|im_start|>user\nHello world<|im_end|>\n');
    const { Template } = await import('@huggingface/jinja');
    const text = new Template(config.chat_template).render({ messages: [{ role: 'user', content: 'Hi' }], add_generation_prompt: true });
    expect(text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('model.safetensors uses LlamaForCausalLM tensor names, shapes and F32 (no lm_head when tied)', () => {
    const header = safetensorsHeader(join(dir, 'model.safetensors'));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toHaveLength(1 + 2 * 9 + 1);
    expect(header['model.embed_tokens.weight']).toMatchObject({ dtype: 'F32', shape: [50259, 64] });
    expect(header['model.layers.1.self_attn.q_proj.weight']).toMatchObject({ dtype: 'F32', shape: [64, 64] });
    expect(header['model.layers.1.self_attn.k_proj.weight']).toMatchObject({ shape: [32, 64] });
    expect(header['model.layers.1.self_attn.v_proj.weight']).toMatchObject({ shape: [32, 64] });
    expect(header['model.layers.1.self_attn.o_proj.weight']).toMatchObject({ shape: [64, 64] });
    expect(header['model.layers.0.mlp.gate_proj.weight']).toMatchObject({ shape: [176, 64] });
    expect(header['model.layers.0.mlp.up_proj.weight']).toMatchObject({ shape: [176, 64] });
    expect(header['model.layers.0.mlp.down_proj.weight']).toMatchObject({ shape: [64, 176] });
    expect(header['model.layers.0.input_layernorm.weight']).toMatchObject({ shape: [64] });
    expect(header['model.layers.0.post_attention_layernorm.weight']).toMatchObject({ shape: [64] });
    expect(header['model.norm.weight']).toMatchObject({ shape: [64] });
    expect(header['lm_head.weight']).toBeUndefined();
    expect(names.every((n) => header[n].dtype === 'F32')).toBe(true);
  });

  it('the ONNX graph has the optimum interface, opset 17 and no unused initializer', () => {
    const model = ModelProto.decode(readFileSync(join(dir, 'onnx', 'model.onnx')));
    expect(model.opsetImport).toEqual([{ domain: '', version: 17 }]);
    const graph = model.graph!;
    expect(graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'num_logits_to_keep', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(graph.output.map((o) => o.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const dims = (name: string): Array<string | number> => graph.input.concat(graph.output).find((v) => v.name === name)!.type!.value!.value.shape!.dim.map((d) => d.value!.value);
    expect(dims('input_ids')).toEqual(['batch_size', 'sequence_length']);
    expect(dims('attention_mask')).toEqual(['batch_size', 'total_sequence_length']);
    expect(dims('past_key_values.1.value')).toEqual(['batch_size', 2, 'past_sequence_length', 16]);
    expect(dims('present.1.value')).toEqual(['batch_size', 2, 'total_sequence_length', 16]);
    expect(dims('num_logits_to_keep')).toEqual([]);
    expect(dims('logits')).toEqual(['batch_size', 'num_logits', 50259]);
    const read = new Set(graph.node.flatMap((n) => n.input));
    expect(graph.initializer.filter((t) => !read.has(t.name)).map((t) => t.name)).toEqual([]);
    expect(new Set(graph.node.map((n) => n.domain))).toEqual(new Set(['']));
  });

  it('greedy decoding wanders through the vocabulary instead of repeating one token', async () => {
    const session = await openDecoder(dir);
    for (const prompt of [[15496, 11, 616, 1438, 318], [50257, 7220, 198, 17250]]) {
      const tokens = await greedyTokens(session, made.config, prompt, 40);
      expect(new Set(tokens).size).toBeGreaterThan(20);
    }
    await session.release();
  });

  it('is deterministic: the same seed gives identical bytes, another seed different weights', async () => {
    const again = join(tmp, 'again');
    const other = join(tmp, 'other');
    await createTinyModel({ outDir: again, preset: 'tiny' });
    await createTinyModel({ outDir: other, preset: 'tiny', seed: 2 });
    for (const file of ['onnx/model.onnx', 'model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      expect(sha256(join(again, file))).toBe(sha256(join(dir, file)));
    }
    expect(sha256(join(other, 'model.safetensors'))).not.toBe(sha256(join(dir, 'model.safetensors')));
    expect(readFileSync(join(other, 'config.json'), 'utf8')).toBe(readFileSync(join(dir, 'config.json'), 'utf8'));
  });
});

describe('createTinyModel options', () => {
  it('qwen2_5 vocabulary keeps its own chat template and special tokens', async () => {
    const dir = join(tmp, 'qwen');
    const made = await createTinyModel({ outDir: dir, preset: 'tiny', vocabFrom: 'qwen2_5', hidden: 32, heads: 2, kvHeads: 1, safetensors: false });
    const config = readJson(dir, 'config.json');
    expect(config.vocab_size).toBe(151665);
    expect(config.eos_token_id).toEqual([151645, 151643]);
    expect(readJson(dir, 'tokenizer_config.json').chat_template).toContain('<|im_start|>');
    expect(made.config.headDim).toBe(16);
    expect(readdirSync(dir)).not.toContain('model.safetensors');
  });

  it('rejects impossible shapes and unknown tokenizers with clear errors', async () => {
    await expect(createTinyModel({ outDir: join(tmp, 'bad1'), heads: 4, kvHeads: 3 })).rejects.toThrow(/multiple of numKvHeads/);
    await expect(createTinyModel({ outDir: join(tmp, 'bad2'), hidden: 66, heads: 4 })).rejects.toThrow(/hidden \(66\) must be a multiple of heads/);
    await expect(createTinyModel({ outDir: join(tmp, 'bad3'), vocabFrom: 'no-such-tokenizer' })).rejects.toThrow(/not installed/);
    await expect(createTinyModel({ outDir: join(tmp, 'bad4'), layers: 0 })).rejects.toThrow(/numLayers must be a positive integer/);
  });
});
