/**
 * The grammars that force tool calls, for every format, checked with xgrammar itself: the calls a model writes in its
 * format (as the tool prompt and the templates show them) are accepted, one or several as parallel_tool_calls allows;
 * arguments outside the schema, unknown functions and free text are not; and what is accepted parses back to calls.
 */
import { checkJsonSchema } from '../../src/worker/grammar/schema-check';
import { xgrammar } from '../../src/worker/grammar/xgrammar';
import { ToolCallStream } from '../../src/worker/tools/call-stream';
import { forcedCallsTag } from '../../src/worker/tools/forced-grammar';
import { TOOL_FORMATS, TOOL_PARSER_NAMES } from '../../src/worker/tools/formats';
import { writeCalls } from '../../src/worker/tools/tool-prompt';

const FUNCTIONS = [
  { name: 'get_weather', schema: checkJsonSchema(JSON.stringify({ type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'], additionalProperties: false }), 'tools') },
  { name: 'get_time', schema: checkJsonSchema(JSON.stringify({ type: 'object', properties: {} }), 'tools') },
];
const weather = { type: 'function' as const, function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } };
const time = { type: 'function' as const, function: { name: 'get_time', arguments: {} } };

async function accepts(tag: string, text: string): Promise<boolean> {
  const xg = xgrammar();
  const grammar = await xg.Grammar.fromStructuralTag(tag);
  try {
    return await xg.Testings.isGrammarAcceptString(grammar, text);
  } finally {
    grammar.dispose();
  }
}

describe.each(TOOL_PARSER_NAMES.map((n) => [n]))('%s', (name) => {
  const format = TOOL_FORMATS[name];

  it('accepts the model\'s own call format, one or (parallel) several; refuses what breaks the schema', async () => {
    const single = await forcedCallsTag(format, FUNCTIONS, false);
    const parallel = await forcedCallsTag(format, FUNCTIONS, true);
    expect(await accepts(single, writeCalls(format, [weather]))).toBe(true);
    expect(await accepts(single, writeCalls(format, [weather, time]))).toBe(false);
    expect(await accepts(parallel, writeCalls(format, [weather, time]))).toBe(true);
    expect(await accepts(parallel, writeCalls(format, [{ ...weather, function: { name: 'get_weather', arguments: { city: 'Paris', days: 9 } } }]))).toBe(false);
    expect(await accepts(parallel, writeCalls(format, [{ type: 'function', function: { name: 'rm', arguments: {} } }]))).toBe(false);
    expect(await accepts(parallel, 'It is sunny.')).toBe(false);
    const named = await forcedCallsTag(format, FUNCTIONS.slice(1), false);
    expect(await accepts(named, writeCalls(format, [time]))).toBe(true);
    expect(await accepts(named, writeCalls(format, [weather]))).toBe(false);
  });

  it('what the grammar accepts parses back into the same calls', () => {
    const stream = new ToolCallStream(format, new Set(['get_weather', 'get_time']));
    const deltas = [...stream.push(writeCalls(format, [weather, time])).calls, ...stream.finish().calls];
    const calls: Array<{ name: string; args: string }> = [];
    for (const d of deltas) if (d.name) calls.push({ name: d.name, args: d.arguments });
    else calls[d.index].args += d.arguments;
    expect(calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.args) as unknown }))).toEqual([weather.function, time.function]);
  });
});
