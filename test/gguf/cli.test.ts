/** `fleetchat model import-gguf` through the real command tree, on small synthetic GGUF files. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program';
import { writeGguf, str } from './support/gguf-writer';
import { writeSyntheticGguf } from './support/synthetic-gguf';

jest.setTimeout(60_000);

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-gguf-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const program = await buildProgram();
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(['node', 'fleetchat', ...args]);
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

describe('fleetchat model import-gguf', () => {
  const gguf = join(tmp, 'qwen2.gguf');
  beforeAll(() => writeSyntheticGguf(gguf, { arch: 'qwen2', tied: false }));

  it('writes the model directory and reports what it imported', async () => {
    const out = join(tmp, 'model');
    const result = JSON.parse(await run(['model', 'import-gguf', gguf, '--out', out, '--weights', 'fp32,int8', '--json']));
    expect(result).toMatchObject({ dir: out, architecture: 'qwen2', name: 'synthetic qwen2', weights: ['fp32', 'int8'], tensor_types: { F32: 2 * 12 + 3 } });
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model.onnx', 'onnx/model_int8.onnx']) {
      expect(existsSync(join(out, f))).toBe(true);
    }
    expect(existsSync(join(out, 'onnx/model_q4.onnx'))).toBe(false);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], attention_bias: true, tie_word_embeddings: false, num_hidden_layers: 2, eos_token_id: [50258, 50256] });
    const tokenizerConfig = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
    expect(tokenizerConfig.chat_template).toContain('<|im_start|>');
  });

  it('prints a one-line summary without --json', async () => {
    const text = await run(['model', 'import-gguf', gguf, '--out', join(tmp, 'summary')]);
    expect(text).toMatch(/^imported synthetic qwen2 \(qwen2, .*M parameters; 2 layers, hidden 64, 4 heads \/ 2 kv, vocab 50259; tensors: 27 F32\) into .*summary: fp32, onnx .* MB/);
  });

  it('refuses a non-empty --out unless --overwrite, and a missing --out', async () => {
    const out = join(tmp, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'x');
    await expect(run(['model', 'import-gguf', gguf, '--out', out])).rejects.toThrow(/exists and is not empty/);
    expect(existsSync(join(out, 'keep.txt'))).toBe(true);
    await run(['model', 'import-gguf', gguf, '--out', out, '--overwrite']);
    expect(existsSync(join(out, 'keep.txt'))).toBe(false);
    await expect(run(['model', 'import-gguf', gguf])).rejects.toThrow(/--out <dir> is required/);
  });

  it('names the architecture it does not support, and leaves nothing behind', async () => {
    const phi = join(tmp, 'phi3.gguf');
    writeGguf(phi, { 'general.architecture': str('phi3') }, []);
    const out = join(tmp, 'phi3-out');
    await expect(run(['model', 'import-gguf', phi, '--out', out])).rejects.toThrow(/architecture 'phi3' is not supported by the GGUF importer \(supported: llama, qwen2/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses unknown weight formats', async () => {
    await expect(run(['model', 'import-gguf', gguf, '--out', join(tmp, 'w'), '--weights', 'fp32,q3'])).rejects.toThrow(/--weights must be some of fp32, int8, int4/);
  });
});
