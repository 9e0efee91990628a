/**
 * Tool-call parsing on real model-format outputs, for each family: content and calls come out right whether the text
 * arrives whole, in two pieces split at every position, or one character at a time.
 */
import { ToolCallStream, type StreamOutput } from '../../src/worker/tools/call-stream';
import { TOOL_FORMATS, type ToolParserName } from '../../src/worker/tools/formats';

interface Parsed {
  content: string;
  calls: Array<{ name: string; arguments: unknown; id: string }>;
}

function parse(format: ToolParserName, pieces: string[], functions = ['get_weather', 'get_time']): Parsed {
  const stream = new ToolCallStream(TOOL_FORMATS[format], new Set(functions));
  const outs: StreamOutput[] = pieces.map((p) => stream.push(p));
  outs.push(stream.finish());
  let content = '';
  const calls: Array<{ name: string; args: string; id: string }> = [];
  for (const o of outs) {
    content += o.content;
    for (const d of o.calls) {
      if (d.index === calls.length) {
        expect(d.name).not.toBe(''); // the first delta of a call names it
        expect(d.id).not.toBe('');
        calls.push({ name: d.name, args: d.arguments, id: d.id });
      } else {
        expect(d.index).toBe(calls.length - 1);
        expect(d.name).toBe('');
        calls[d.index].args += d.arguments;
      }
    }
  }
  return { content, calls: calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.args) as unknown, id: c.id })) };
}

function strip(p: Parsed): { content: string; calls: Array<{ name: string; arguments: unknown }> } {
  return { content: p.content, calls: p.calls.map(({ name, arguments: a }) => ({ name, arguments: a })) };
}

/** Whole, every two-piece split, and character by character give the same result. */
function expectEverySplit(format: ToolParserName, text: string, expected: { content: string; calls: Array<{ name: string; arguments: unknown }> }, functions?: string[]): void {
  expect(strip(parse(format, [text], functions))).toEqual(expected);
  for (let i = 1; i < text.length; i++) expect(strip(parse(format, [text.slice(0, i), text.slice(i)], functions))).toEqual(expected);
  expect(strip(parse(format, [...text], functions))).toEqual(expected);
}

const weather = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } };
const time = { name: 'get_time', arguments: { tz: 'Europe/Paris', precise: true, n: [1, 2.5e3, null] } };

describe('hermes (Qwen2.5, Hermes 2 Pro)', () => {
  test('one call, no content', () => {
    expectEverySplit('hermes', '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>', { content: '', calls: [weather] });
  });
  test('text first, then two calls', () => {
    const text = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>\n<tool_call>\n{"arguments": {"tz": "Europe/Paris", "precise": true, "n": [1, 2.5e3, null]}, "name": "get_time"}\n</tool_call>';
    expectEverySplit('hermes', text, { content: 'Let me check.\n', calls: [weather, time] });
    expectEverySplit('hermes', text + '\n\nDone.\n', { content: 'Let me check.\n\n\nDone.', calls: [weather, time] });
  });
  test('plain text, a "<" that is not a marker, and an unknown function stay content', () => {
    expectEverySplit('hermes', 'a < b and <tool is fine', { content: 'a < b and <tool is fine', calls: [] });
    const unknown = '<tool_call>\n{"name": "rm_rf", "arguments": {}}\n</tool_call>';
    expectEverySplit('hermes', unknown, { content: unknown, calls: [] });
    const broken = 'x <tool_call>{"name" 12}';
    expectEverySplit('hermes', broken, { content: broken, calls: [] });
  });
  test('arguments given as a JSON string are decoded', () => {
    expectEverySplit('hermes', '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\", \\"unit\\": \\"celsius\\"}"}</tool_call>', { content: '', calls: [weather] });
  });
  test('ids are distinct', () => {
    const p = parse('hermes', ['<tool_call>{"name": "get_time", "arguments": {}}</tool_call><tool_call>{"name": "get_time"}</tool_call>']);
    expect(p.calls.map((c) => c.arguments)).toEqual([{}, {}]);
    expect(p.calls[0].id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(p.calls[0].id).not.toBe(p.calls[1].id);
  });
});

describe('llama3_json (Llama 3.1 / 3.2)', () => {
  test('bare JSON, with <|python_tag|>, and several separated by "; "', () => {
    expectEverySplit('llama3_json', '{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}', { content: '', calls: [weather] });
    expectEverySplit('llama3_json', '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}', { content: '', calls: [weather] });
    expectEverySplit('llama3_json', ' {"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}; {"name": "get_time", "parameters": {"tz": "Europe/Paris", "precise": true, "n": [1, 2.5e3, null]}}', { content: '', calls: [weather, time] });
  });
  test('text, and JSON that is not a call, stay content', () => {
    expectEverySplit('llama3_json', 'The weather is {"good": true}', { content: 'The weather is {"good": true}', calls: [] });
    expectEverySplit('llama3_json', '{"answer": 42}', { content: '{"answer": 42}', calls: [] });
  });
});

describe('mistral', () => {
  test('[TOOL_CALLS] with an array of calls; 9-character ids', () => {
    const text = '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}, {"name": "get_time", "arguments": {"tz": "Europe/Paris", "precise": true, "n": [1, 2.5e3, null]}}]';
    expectEverySplit('mistral', text, { content: '', calls: [weather, time] });
    expect(parse('mistral', [text]).calls[0].id).toMatch(/^[A-Za-z0-9]{9}$/);
    expectEverySplit('mistral', 'Sure. [TOOL_CALLS] [{"name": "get_time", "arguments": {}}]', { content: 'Sure. ', calls: [{ name: 'get_time', arguments: {} }] });
  });
});

describe('smollm2', () => {
  test('<tool_call>[...]</tool_call>, one or several', () => {
    expectEverySplit('smollm2', '<tool_call>[\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n]</tool_call>', { content: '', calls: [weather] });
    expectEverySplit('smollm2', '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}, {"name": "get_time", "arguments": {"tz": "Europe/Paris", "precise": true, "n": [1, 2.5e3, null]}}]</tool_call>', { content: '', calls: [weather, time] });
  });
  test('an empty list is no call (and no content); plain text is content', () => {
    expectEverySplit('smollm2', '<tool_call>[]</tool_call>', { content: '', calls: [] });
    expectEverySplit('smollm2', 'It is sunny in Paris.', { content: 'It is sunny in Paris.', calls: [] });
  });
});

test('parallel_tool_calls false: calls after the first are read but not reported', () => {
  const text = '<tool_call>{"name": "get_time", "arguments": {"a": 1}}</tool_call>\n<tool_call>{"name": "get_weather", "arguments": {"b": 2}}</tool_call>';
  for (const pieces of [[text], [...text]]) {
    const stream = new ToolCallStream(TOOL_FORMATS.hermes, new Set(['get_weather', 'get_time']), 1);
    const deltas = [...pieces.flatMap((p) => stream.push(p).calls), ...stream.finish().calls];
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(deltas[0].name).toBe('get_time');
    expect(JSON.parse(deltas.map((d) => d.arguments).join(''))).toEqual({ a: 1 });
  }
});

test('a call cut off by max_tokens keeps its name and the arguments read so far', () => {
  const stream = new ToolCallStream(TOOL_FORMATS.hermes, new Set(['get_weather']));
  const a = stream.push('<tool_call>\n{"name": "get_weather", "arguments": {"ci');
  const b = stream.finish();
  expect(a.calls[0]).toMatchObject({ index: 0, name: 'get_weather' });
  expect([...a.calls, ...b.calls].map((d) => d.arguments).join('')).toBe('{"ci');
  expect(a.content + b.content).toBe('');
});
