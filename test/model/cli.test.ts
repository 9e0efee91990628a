/** `fleetchat model create-tiny` / `create-encoder` through the real command tree. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program';
import { readOnnxMetadata } from '../../src/worker/engine/graph-metadata';

const tmp = mkdtempSync(join(tmpdir(), 'fleetchat-model-cli-'));
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

describe('fleetchat model', () => {
  it('create-tiny applies shape flags over the preset and reports what it wrote', async () => {
    const dir = join(tmp, 'm');
    const out = await run(['model', 'create-tiny', '--out', dir, '--layers', '1', '--hidden', '32', '--heads', '4', '--kv-heads', '1', '--head-dim', '8',
      '--intermediate', '48', '--seed', '5', '--rope-theta', '50000', '--tie-embeddings', 'false', '--no-safetensors', '--weights', 'int4', '--json']);
    const result = JSON.parse(out);
    expect(result.dir).toBe(dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 8, intermediate_size: 48, rope_theta: 50000, tie_word_embeddings: false });
    expect(result.parameters).toBe(50259 * 32 * 2 + 32 + 32 * 32 + 2 * 8 * 32 + 32 * 32 + 32 + 3 * 32 * 48 + 32);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(dir, 'onnx', 'model_q4.onnx'))).toBe(true);
    expect(existsSync(join(dir, 'onnx', 'model.onnx'))).toBe(false);
  });

  it('create-tiny --graph fused keeps a float16 KV cache (--kv-cache auto), marked for fleetchat\'s attention kernel; --kv-cache fp32 keeps float32', async () => {
    const marks = async (name: string, args: string[]): Promise<Map<string, string>> => {
      const dir = join(tmp, name);
      await run(['model', 'create-tiny', '--out', dir, '--layers', '1', '--no-safetensors', ...args]);
      return readOnnxMetadata(join(dir, 'onnx', 'model.onnx'));
    };
    const auto = await marks('fused-auto', ['--graph', 'fused']);
    expect(auto.get('fleetchat.attention_kernel')).toBe('fleetchat');
    expect(JSON.parse(auto.get('generator') ?? '{}')).toMatchObject({ graph: 'fused', kvCache: 'fp16' });
    expect((await marks('fused-fp32', ['--graph', 'fused', '--kv-cache', 'fp32'])).get('fleetchat.attention_kernel')).toBeUndefined();
    expect((await marks('standard-auto', [])).get('fleetchat.attention_kernel')).toBeUndefined();
    await expect(run(['model', 'create-tiny', '--out', join(tmp, 'x'), '--kv-cache', 'fp16'])).rejects.toThrow(/--kv-cache fp16\) needs the fused graph/);
    await expect(run(['model', 'create-tiny', '--out', join(tmp, 'x'), '--graph', 'fused', '--kv-cache', 'fp8'])).rejects.toThrow(/expected one of auto, fp32, fp16/);
  });

  it('create-encoder writes an encoder directory', async () => {
    const dir = join(tmp, 'e');
    const out = await run(['model', 'create-encoder', '--out', dir, '--layers', '1', '--hidden', '32', '--heads', '2', '--intermediate', '64']);
    expect(out).toContain(`wrote ${dir}: encoder, 1 layers, hidden 32`);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).model_type).toBe('bert');
  });

  it('rejects bad input with clear errors', async () => {
    await expect(run(['model', 'create-tiny'])).rejects.toThrow('--out <dir> is required');
    await expect(run(['model', 'create-tiny', '--out', join(tmp, 'x'), '--preset', 'huge'])).rejects.toThrow(/expected one of tiny, small, 100m/);
    await expect(run(['model', 'create-tiny', '--out', join(tmp, 'x'), '--layers', 'two'])).rejects.toThrow(/expected an integer/);
    await expect(run(['model', 'create-tiny', '--out', join(tmp, 'x'), '--heads', '4', '--kv-heads', '3'])).rejects.toThrow(/multiple of numKvHeads/);
    await expect(run(['model', 'create-tiny', '--out', join(tmp, 'x'), '--weights', 'fp32,int3'])).rejects.toThrow(/weight formats must be some of fp32, int8, int4, fp16, got 'fp32,int3'/);
  });
});
