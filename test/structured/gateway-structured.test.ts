/**
 * Structured outputs through the whole stack (gateway → worker, real gRPC, real ONNX) with the official openai client:
 * `chat.completions.parse` with a zod schema, response_format json_schema on chat and completions, vLLM's guided_*,
 * streaming, and 400s that name what cannot be enforced. The model has random weights: only the grammar makes its
 * output valid.
 */
import Ajv from 'ajv';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';
import { SCHEMAS } from './schemas';

describe('structured outputs through the gateway (random-weight model)', () => {
  let stack: Stack;
  let client: OpenAI;
  const ajv = new Ajv({ strict: false });

  beforeAll(async () => {
    const dir = await tinyModel();
    stack = await startStack({ workers: [{ model: dir, names: ['tiny'] }] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it('chat.completions.parse with a zod schema returns a parsed, valid object', async () => {
    const Person = z.object({ name: z.string().max(10), age: z.number().int().min(0).max(120), pet: z.enum(['cat', 'dog']) });
    for (const seed of [1, 2, 3]) {
      const res = await client.chat.completions.parse({ model: 'tiny', messages: [{ role: 'user', content: 'Who?' }], response_format: zodResponseFormat(Person, 'person'), temperature: 1, seed, max_tokens: 400 });
      const parsed = res.choices[0].message.parsed;
      expect(Person.parse(parsed)).toEqual(parsed);
      expect(res.choices[0].finish_reason).toBe('stop');
    }
  }, 60_000);

  it('response_format json_schema on completions, streamed, and guided_choice / guided_regex', async () => {
    const schema = SCHEMAS[4];
    const stream = await client.completions.create({ model: 'tiny', prompt: 'JSON:', max_tokens: 400, temperature: 1, seed: 7, stream: true, response_format: { type: 'json_schema', json_schema: { name: 'user', schema } } } as unknown as OpenAI.CompletionCreateParamsStreaming);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(ajv.validate(schema, JSON.parse(text))).toBe(true);
    const choice = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Pick' }], max_tokens: 20, guided_choice: ['left', 'right'] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(['left', 'right']).toContain(choice.choices[0].message.content);
    const regex = await client.completions.create({ model: 'tiny', prompt: 'Date:', max_tokens: 30, guided_regex: '20[0-9]{2}-(0[1-9]|1[0-2])' } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(regex.choices[0].text).toMatch(/^20[0-9]{2}-(0[1-9]|1[0-2])$/);
  }, 60_000);

  it('refuses what it cannot enforce with a 400 naming it', async () => {
    const call = (body: Record<string, unknown>): Promise<{ status: number; error: { message: string; param: string | null } }> =>
      fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 5, ...body }) })
        .then(async (r) => ({ status: r.status, ...((await r.json()) as { error: { message: string; param: string | null } }) }));
    const uniq = await call({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array', items: { type: 'integer' }, uniqueItems: true } } } });
    expect(uniq.status).toBe(400);
    expect(uniq.error.message).toMatch(/unsupported JSON Schema keyword 'uniqueItems'/);
    const both = await call({ response_format: { type: 'json_object' }, guided_regex: 'a+' });
    expect(both.status).toBe(400);
    expect(both.error.param).toBe('guided_regex');
    const bad = await call({ response_format: { type: 'yaml' } });
    expect(bad.status).toBe(400);
    expect(bad.error.message).toMatch(/"yaml" is not supported/);
  }, 30_000);
});
