/**
 * Tool calling through the whole stack (gateway → worker, real gRPC, real ONNX) with the official openai client, on
 * the generated random-weight model (a ChatML template without tool syntax: the worker describes the tools in hermes'
 * format). Its weights are random, so only the grammar makes a named or required call valid: every call's arguments
 * must validate against the function's schema, streamed and not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';

const FUNCTIONS: OpenAI.FunctionDefinition[] = [
  { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string', pattern: '^[A-Za-z ]{1,12}$' }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['city', 'unit'], additionalProperties: false } },
  { name: 'book-flight', parameters: { type: 'object', properties: { from: { type: 'string', pattern: '^[A-Z]{3}$' }, to: { type: 'string', pattern: '^[A-Z]{3}$' }, passengers: { type: 'integer', minimum: 1, maximum: 9 } }, required: ['from', 'to', 'passengers'] } },
  { name: 'add_items', parameters: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string', pattern: '^[A-Z0-9]{1,8}$' }, qty: { type: 'integer', minimum: 1, maximum: 99 } }, required: ['sku', 'qty'] }, minItems: 1, maxItems: 3 } }, required: ['items'] } },
  { name: 'set_flags', parameters: { type: 'object', properties: { verbose: { type: 'boolean' }, level: { type: 'number', minimum: 0, maximum: 1 }, note: { anyOf: [{ type: 'string', pattern: '^[a-z ]{1,10}$' }, { type: 'null' }] } }, required: ['verbose', 'level', 'note'] } },
  { name: 'nested', parameters: { type: 'object', properties: { user: { type: 'object', properties: { name: { type: 'string', pattern: '^[A-Z][a-z]{0,9}$' }, address: { type: 'object', properties: { zip: { type: 'string', pattern: '^[0-9]{5}$' } }, required: ['zip'] } }, required: ['name', 'address'] } }, required: ['user'] } },
  { name: 'no_args' },
];
const TOOLS: OpenAI.ChatCompletionTool[] = FUNCTIONS.map((f) => ({ type: 'function', function: f }));
const schemaOf = (name: string): object => FUNCTIONS.find((f) => f.name === name)?.parameters ?? { type: 'object', properties: {} };

describe('tool calling through the gateway (random-weight model)', () => {
  let stack: Stack;
  let client: OpenAI;
  let modelDir: string;
  const ajv = new Ajv({ strict: false });

  const expectValid = (name: string, args: string): void => {
    const value: unknown = JSON.parse(args);
    if (!ajv.validate(schemaOf(name), value)) throw new Error(`${name}(${args}): ${ajv.errorsText()}`);
  };

  beforeAll(async () => {
    modelDir = await tinyModel();
    stack = await startStack({ workers: [{ model: modelDir, names: ['tiny'] }] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it('a named tool_choice always yields one call to that function whose arguments validate', async () => {
    for (const [i, f] of FUNCTIONS.entries()) {
      for (const seed of [1]) {
        const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: `Use ${f.name}` }], tools: TOOLS, tool_choice: { type: 'function', function: { name: f.name } }, temperature: 1, seed: seed + i * 10, max_tokens: 300 });
        const { message, finish_reason } = res.choices[0];
        expect(finish_reason).toBe('tool_calls');
        expect(message.content).toBeNull();
        expect(message.tool_calls).toHaveLength(1);
        const call = message.tool_calls?.[0];
        if (call?.type !== 'function') throw new Error('expected a function call');
        expect(call.function.name).toBe(f.name);
        expect(call.id).toMatch(/^call_/);
        expectValid(f.name, call.function.arguments);
      }
    }
  }, 120_000);

  it('streamed: id and name first, then argument fragments that join into valid arguments; required may call several', async () => {
    const stream = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Book it' }], tools: TOOLS, tool_choice: { type: 'function', function: { name: 'book-flight' } }, temperature: 1, seed: 5, max_tokens: 300, stream: true });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'book-flight' } });
    expect(deltas[0].id).toMatch(/^call_/);
    expect(deltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined)).toBe(true);
    expectValid('book-flight', deltas.map((d) => d.function?.arguments ?? '').join(''));

    for (const seed of [1, 2]) {
      const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Do something' }], tools: TOOLS, tool_choice: 'required', temperature: 1, seed, max_tokens: 400 });
      const calls = res.choices[0].message.tool_calls ?? [];
      expect(calls.length).toBeGreaterThanOrEqual(1);
      for (const c of calls) if (c.type === 'function') expectValid(c.function.name, c.function.arguments);
      const single = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Do something' }], tools: TOOLS, tool_choice: 'required', parallel_tool_calls: false, temperature: 1, seed, max_tokens: 400 });
      expect(single.choices[0].message.tool_calls).toHaveLength(1);
    }
  }, 120_000);

  it('a forced call never leaves a bounded integer range, even with digits pushed by logit_bias', async () => {
    // xgrammar's own conversion lets [-5, 120] take 121-129 and [-280, -274] take -272 or -289 (its grammar failed this
    // very request: {"level": 33, "temp": -289}); the exact grammar must not.
    const parameters = { type: 'object', properties: { level: { type: 'integer', minimum: -5, maximum: 120 }, temp: { type: 'integer', minimum: -280, maximum: -274 } }, required: ['level', 'temp'], additionalProperties: false };
    const vocab = (JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    const logit_bias: Record<string, number> = {};
    for (const digit of '0123456789') if (vocab[digit] !== undefined) logit_bias[String(vocab[digit])] = digit === '2' || digit === '9' ? 8 : 5;
    expect(Object.keys(logit_bias)).toHaveLength(10);
    const seen = new Set<string>();
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Set the level' }], tools: [{ type: 'function', function: { name: 'set_level', parameters } }], tool_choice: { type: 'function', function: { name: 'set_level' } }, temperature: 1.5, seed: 1, n: 8, logit_bias, max_tokens: 80 });
    for (const choice of res.choices) {
      const c = choice.message.tool_calls?.[0];
      if (c?.type !== 'function') throw new Error(`expected a function call, got ${JSON.stringify(choice.message)}`);
      const args: unknown = JSON.parse(c.function.arguments);
      if (!ajv.validate(parameters, args)) throw new Error(`set_level(${c.function.arguments}): ${ajv.errorsText()}`);
      seen.add(c.function.arguments);
    }
    expect(seen.size).toBeGreaterThan(3); // the samples differ: the bounds were exercised, not one answer repeated
  }, 90_000);

  it('a conversation with tool calls and tool results renders; tool_choice none answers in text', async () => {
    const res = await client.chat.completions.create({
      model: 'tiny',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
      ],
      tools: TOOLS,
      tool_choice: 'none',
      max_tokens: 8,
    });
    expect(res.choices[0].message.tool_calls).toBeUndefined();
    expect(typeof res.choices[0].message.content).toBe('string');
    expect(res.choices[0].finish_reason).not.toBe('tool_calls');
  }, 60_000);

  it('bad tools and tool turns are 400s naming the field', async () => {
    const call = (body: Record<string, unknown>): Promise<{ status: number; error: { message: string; param: string | null } }> =>
      fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 5, ...body }) })
        .then(async (r) => ({ status: r.status, ...((await r.json()) as { error: { message: string; param: string | null } }) }));
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name', /letters, digits/],
      [{ tools: [{ type: 'retrieval' }] }, 'tools[0].type', /must be "function"/],
      [{ tools: TOOLS, tool_choice: { type: 'function', function: { name: 'missing' } } }, 'tool_choice.function.name', /not one of the tools/],
      [{ tool_choice: 'required' }, 'tool_choice', /needs tools/],
      [{ tools: TOOLS, tool_choice: 'sometimes' }, 'tool_choice', /"auto", "none", "required"/],
      [{ tools: Array.from({ length: 129 }, (_, i) => ({ type: 'function', function: { name: `f${i}` } })) }, 'tools', /at most 128 tools/],
      [{ tools: [TOOLS[0], TOOLS[0]] }, 'tools[1].function.name', /defined twice/],
      [{ tools: TOOLS, parallel_tool_calls: 'yes' }, 'parallel_tool_calls', /true or false/],
      [{ tools: TOOLS, response_format: { type: 'json_object' } }, 'response_format', /cannot be combined with tools/],
      [{ messages: [{ role: 'tool', content: '1' }] }, 'messages[0].tool_call_id', /is required/],
      [{ tools: [{ type: 'function', function: { name: 'u', parameters: { type: 'object', properties: { a: { type: 'integer', multipleOf: 3 } } } } }], tool_choice: 'required' }, 'tools[0].function.parameters', /unsupported JSON Schema keyword 'multipleOf'/],
    ];
    for (const [body, param, message] of cases) {
      const r = await call(body);
      expect({ status: r.status, param: r.error.param, body }).toEqual({ status: 400, param, body });
      expect(r.error.message).toMatch(message);
    }
  }, 60_000);
});
