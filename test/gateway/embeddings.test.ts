import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createTinyEncoder } from '../../src/model/encoder/create-tiny-encoder';
import { tinyModel } from '../support/models';
import { startStack, type Stack } from '../support/stack';

async function tinyEncoder(): Promise<string> {
  const dir = join(__dirname, '../../.cache/test-models/encoder-tiny');
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await createTinyEncoder({ outDir: tmp });
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) renameSync(tmp, dir);
  return dir;
}

const norm = (v: number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

describe('embeddings through the gateway', () => {
  let stack: Stack;
  let client: OpenAI;
  beforeAll(async () => {
    stack = await startStack({ workers: [{ model: await tinyEncoder(), names: ['embed'] }, { model: await tinyModel(), names: ['chat'] }] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it('returns one normalised vector per input, in order, independent of batching', async () => {
    const texts = ['hello world', 'a much longer sentence about the sea and the sky', 'x'];
    const batch = await client.embeddings.create({ model: 'embed', input: texts, encoding_format: 'float' });
    expect(batch.data.map((d) => d.index)).toEqual([0, 1, 2]);
    for (const d of batch.data) {
      expect(d.embedding).toHaveLength(64);
      expect(norm(d.embedding)).toBeCloseTo(1, 5);
    }
    const single = await client.embeddings.create({ model: 'embed', input: texts[1], encoding_format: 'float' });
    single.data[0].embedding.forEach((x, i) => expect(x).toBeCloseTo(batch.data[1].embedding[i], 5));
    expect(batch.usage.prompt_tokens).toBeGreaterThan(single.usage.prompt_tokens);
  });

  it('supports base64 encoding and truncated dimensions', async () => {
    const floats = await client.embeddings.create({ model: 'embed', input: 'hello', encoding_format: 'float', dimensions: 16 });
    expect(floats.data[0].embedding).toHaveLength(16);
    expect(norm(floats.data[0].embedding)).toBeCloseTo(1, 5);
    const res = await fetch(`${stack.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'embed', input: 'hello', encoding_format: 'base64', dimensions: 16 }) });
    const body = (await res.json()) as { data: Array<{ embedding: string }> };
    const decoded = Array.from(new Float32Array(Uint8Array.from(Buffer.from(body.data[0].embedding, 'base64')).buffer));
    decoded.forEach((x, i) => expect(x).toBeCloseTo(floats.data[0].embedding[i], 6));
  });

  it('refuses to embed with a chat model and to chat with an embedding model', async () => {
    await expect(client.embeddings.create({ model: 'chat', input: 'x' })).rejects.toMatchObject({ status: 400 });
    await expect(client.chat.completions.create({ model: 'embed', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 400 });
    await expect(client.embeddings.create({ model: 'embed', input: [] })).rejects.toMatchObject({ status: 400, param: 'input' });
  });
});
