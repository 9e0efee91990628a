/**
 * A real tool loop with a real chat model: SmolLM2-135M-Instruct (its GGUF, imported) behind the gateway, driven by
 * the official openai client. The model calls a local function (a named tool_choice: constrained decoding makes the
 * call valid even for a 135M model), the client runs it and sends the result back as a `tool` message, and the model
 * answers in text — with the client's `runTools` helper, and with a hand-written streamed loop.
 */
import Ajv from 'ajv';
import OpenAI from 'openai';
import { startStack, type Stack } from '../support/stack';
import { describeWithSmolLM2, importedSmolLM2 } from '../gguf/support/smollm2';

jest.setTimeout(300_000);

const MODEL = 'SmolLM2-135M-Instruct';
const PARAMETERS = { type: 'object', properties: { city: { type: 'string', pattern: '^[A-Za-z ]{1,20}$' }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['city', 'unit'], additionalProperties: false };
const TOOL: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: PARAMETERS } };
const QUESTION = 'What is the weather like in Paris today?';

interface WeatherArgs {
  city: string;
  unit: string;
}

describeWithSmolLM2('tool calling with SmolLM2 (openai client tool loop)', (gguf) => {
  let stack: Stack;
  let client: OpenAI;
  const validate = new Ajv({ strict: false }).compile(PARAMETERS);
  const calls: WeatherArgs[] = [];
  const getWeather = (args: WeatherArgs): string => {
    calls.push(args);
    return JSON.stringify({ city: args.city, temperature: 21, unit: args.unit, condition: 'sunny' });
  };

  beforeAll(async () => {
    const { dir } = await importedSmolLM2(gguf);
    stack = await startStack({ workers: [{ model: dir, names: [MODEL] }] });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => stack?.stop());

  it('runTools: the model calls get_weather, the client runs it and sends the result, the model answers', async () => {
    calls.length = 0;
    const runner = client.chat.completions.runTools({
      model: MODEL,
      messages: [{ role: 'user', content: QUESTION }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: PARAMETERS, parse: (s: string) => JSON.parse(s) as WeatherArgs, function: getWeather } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      temperature: 0,
      max_tokens: 64,
    });
    await runner.done();
    expect(calls).toHaveLength(1);
    expect(validate(calls[0])).toBe(true);
    const messages = runner.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    const assistant = messages[1] as OpenAI.ChatCompletionAssistantMessageParam;
    expect(assistant.content).toBeNull();
    expect(assistant.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });

    const answer = await client.chat.completions.create({ model: MODEL, messages, tools: [TOOL], tool_choice: 'none', temperature: 0, max_tokens: 64 });
    expect(answer.choices[0].finish_reason).toMatch(/stop|length/);
    expect(answer.choices[0].message.tool_calls).toBeUndefined();
    expect(answer.choices[0].message.content?.trim()).not.toBe('');
  });

  it('a streamed loop: tool_calls deltas, finish_reason tool_calls, the tool result, a streamed answer', async () => {
    calls.length = 0;
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: QUESTION }];
    const stream = await client.chat.completions.create({ model: MODEL, messages, tools: [TOOL], tool_choice: 'required', temperature: 0, max_tokens: 64, stream: true });
    const call = { id: '', name: '', arguments: '' };
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      for (const d of choice.delta.tool_calls ?? []) {
        expect(d.index).toBe(0);
        call.id ||= d.id ?? '';
        call.name ||= d.function?.name ?? '';
        call.arguments += d.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(call.name).toBe('get_weather');
    const args = JSON.parse(call.arguments) as WeatherArgs;
    expect(validate(args)).toBe(true);
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] });
    messages.push({ role: 'tool', tool_call_id: call.id, content: getWeather(args) });

    const answer = await client.chat.completions.create({ model: MODEL, messages, tools: [TOOL], tool_choice: 'none', temperature: 0, max_tokens: 64, stream: true });
    let text = '';
    for await (const chunk of answer) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.trim()).not.toBe('');
    console.log(`SmolLM2 tool loop: get_weather(${call.arguments}) → "${text.trim().slice(0, 200)}"`);
  });

  it('auto: the model chooses; whatever it writes is either text or calls to the offered function', async () => {
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: QUESTION }], tools: [TOOL], temperature: 0, max_tokens: 64 });
    const { message, finish_reason } = res.choices[0];
    if (finish_reason === 'tool_calls') {
      for (const c of message.tool_calls ?? []) expect(c.type === 'function' && c.function.name).toBe('get_weather');
    } else expect(typeof message.content).toBe('string');
    console.log(`SmolLM2 auto: finish_reason=${finish_reason} content=${JSON.stringify(message.content)} calls=${JSON.stringify(message.tool_calls ?? [])}`);
  });
});
