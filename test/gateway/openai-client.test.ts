import OpenAI from 'openai';
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';

describe('gateway with the official openai client', () => {
  let stack: Stack;
  let client: OpenAI;

  beforeAll(async () => {
    const dir = await tinyModel();
    stack = await startStack({ workers: [{ model: dir, names: ['tiny', 'tiny-alias'] }] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it('lists models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(['tiny', 'tiny-alias']);
    expect((await client.models.retrieve('tiny')).id).toBe('tiny');
  });

  it('answers a chat completion with exact usage', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 8, temperature: 0 });
    expect(res.object).toBe('chat.completion');
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0].message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(res.choices[0].finish_reason);
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(8);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('streams the same text it returns without streaming (greedy)', async () => {
    const params = { model: 'tiny', messages: [{ role: 'user' as const, content: 'Tell me a story' }], max_tokens: 16, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        finish = c.finish_reason ?? finish;
      }
    }
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe(whole.choices[0].finish_reason);
    // The same prompt twice: the second may take its prefix from the worker's cache (cached_tokens differ).
    expect(usage).toMatchObject({ prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: whole.usage!.completion_tokens, total_tokens: whole.usage!.total_tokens });
  });

  it('returns n choices, streaming and not', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, n: 3, temperature: 1, seed: 5 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const stream = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, n: 3, temperature: 1, seed: 5, stream: true });
    const texts = ['', '', ''];
    for await (const chunk of stream) for (const c of chunk.choices) texts[c.index] += c.delta.content ?? '';
    expect(texts).toEqual(res.choices.map((c) => c.message.content));
  });

  it('returns chat logprobs with top alternatives', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2 });
    const content = res.choices[0].logprobs!.content!;
    expect(content.length).toBe(res.usage!.completion_tokens - (res.choices[0].finish_reason === 'stop' ? 1 : 0) || content.length);
    for (const c of content) {
      expect(c.top_logprobs).toHaveLength(2);
      expect(c.logprob).toBeCloseTo(c.top_logprobs[0].logprob, 5);
      expect(Buffer.from(c.bytes!).toString('utf8')).toBe(c.token);
    }
    expect(content.map((c) => c.token).join('')).toBe(res.choices[0].message.content);
  });

  it('serves text completions with echo and logprobs', async () => {
    const res = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0, echo: true, logprobs: 2 });
    const choice = res.choices[0];
    expect(choice.text.startsWith('Once upon a time')).toBe(true);
    expect(choice.logprobs!.token_logprobs![0]).toBeNull();
    expect(choice.logprobs!.tokens!.join('')).toBe(choice.text);
    expect(choice.logprobs!.text_offset![1]).toBe(choice.logprobs!.tokens![0].length);
    const stream = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect('Once upon a time' + text).toBe(choice.text);
  });

  it('maps errors to OpenAI errors with the right status', async () => {
    await expect(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.chat.completions.create({ model: 'tiny', messages: [] })).rejects.toMatchObject({ status: 400, param: 'messages' });
  });
});
