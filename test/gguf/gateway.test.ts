/**
 * The imported SmolLM2 through the whole stack (controller, worker, gateway on 127.0.0.1) with the official `openai`
 * client: the model's own chat template from the GGUF, greedy decoding, an answer that names Paris; streaming too.
 */
import OpenAI from 'openai';
import { startStack, type Stack } from '../support/stack';
import { describeWithSmolLM2, importedSmolLM2 } from './support/smollm2';

jest.setTimeout(300_000);

describeWithSmolLM2('SmolLM2 imported from GGUF behind the OpenAI API', (gguf) => {
  let stack: Stack;
  let client: OpenAI;

  beforeAll(async () => {
    const { dir } = await importedSmolLM2(gguf);
    stack = await startStack({ workers: [{ model: dir, names: ['SmolLM2-135M-Instruct'] }] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => stack?.stop());

  it('answers "What is the capital of France?" with Paris (greedy)', async () => {
    const r = await client.chat.completions.create({
      model: 'SmolLM2-135M-Instruct',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
      temperature: 0,
      max_tokens: 48,
    });
    expect(r.choices[0].message.content).toMatch(/Paris/);
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(20); // the template's default system prompt is in
  });

  it('streams the same answer', async () => {
    const stream = await client.chat.completions.create({
      model: 'SmolLM2-135M-Instruct',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
      temperature: 0,
      max_tokens: 48,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toMatch(/Paris/);
  });

  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('SmolLM2-135M-Instruct');
  });
});
