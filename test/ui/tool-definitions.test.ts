/**
 * The web UI checks the Tools panel's JSON in the browser with the gateway's rules: the same verdict and the same
 * field named as the chat library's parseToolDefinitions (what the gateway answers with a 400), for valid and broken
 * definitions alike, and the same limits.
 */
import { parseToolDefinitions } from '../../src/chat';
import { FleetError } from '../../src/common/errors';
import { CONSTRAINT_LIMITS, TOOL_LIMITS } from '../../src/common/request-limits';
import { checkTools, EXAMPLE_TOOLS, parseToolsText, prettyArguments, TOOLS_LIMITS } from '../../src/gateway/ui/client/tool-definitions';

const fn = (f: Record<string, unknown>): Record<string, unknown> => ({ type: 'function', function: f });

const CASES: Array<[string, unknown]> = [
  ['example', JSON.parse(EXAMPLE_TOOLS)],
  ['empty list', []],
  ['no parameters', [fn({ name: 'ping' })]],
  ['all fields', [fn({ name: 'a-b_9', description: 'x', parameters: { type: 'object', properties: {} }, strict: true })]],
  ['null description', [fn({ name: 'a', description: null })]],
  ['not an array', fn({ name: 'a' })],
  ['a string', 'get_weather'],
  ['not an object', ['get_weather']],
  ['wrong type', [{ type: 'retrieval' }]],
  ['no type', [{ function: { name: 'a' } }]],
  ['extra key', [{ type: 'function', function: { name: 'a' }, extra: 1 }]],
  ['function not an object', [{ type: 'function', function: 'a' }]],
  ['no name', [fn({ description: 'x' })]],
  ['name with a space', [fn({ name: 'has space' })]],
  ['name too long', [fn({ name: 'x'.repeat(65) })]],
  ['name not a string', [fn({ name: 7 })]],
  ['unknown function key', [fn({ name: 'a', arguments: {} })]],
  ['description not a string', [fn({ name: 'a', description: 3 })]],
  ['description too long', [fn({ name: 'a', description: 'd'.repeat(8193) })]],
  ['parameters an array', [fn({ name: 'a', parameters: [] })]],
  ['parameters a string', [fn({ name: 'a', parameters: 'object' })]],
  ['strict not a boolean', [fn({ name: 'a', strict: 'yes' })]],
  ['defined twice', [fn({ name: 'a' }), fn({ name: 'b' }), fn({ name: 'a' })]],
  ['too many', Array.from({ length: 129 }, (_, i) => fn({ name: `f${i}` }))],
  ['too large', [fn({ name: 'a', parameters: { type: 'object', description: 'x'.repeat(70_000) } })]],
];

function serverVerdict(value: unknown): { ok: true } | { ok: false; param: string | undefined } {
  try {
    parseToolDefinitions(value);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof FleetError)) throw err;
    return { ok: false, param: err.param };
  }
}

describe('the web UI\'s tools check', () => {
  it.each(CASES)('%s: same verdict and field as the gateway', (_name, value) => {
    const client = checkTools(value);
    const server = serverVerdict(value);
    expect(client.ok ? { ok: true } : { ok: false, param: client.param }).toEqual(server);
    if (!client.ok) expect(client.message.startsWith(`${client.param}: `)).toBe(true);
  });

  it('has the gateway\'s limits', () => {
    expect(TOOLS_LIMITS.maxTools).toBe(CONSTRAINT_LIMITS.maxTools);
    expect(TOOLS_LIMITS.maxBytes).toBe(CONSTRAINT_LIMITS.maxSchemaBytes);
    expect(TOOLS_LIMITS.maxDescriptionChars).toBe(TOOL_LIMITS.maxDescriptionChars);
    expect(TOOLS_LIMITS.namePattern.source).toBe(TOOL_LIMITS.namePattern.source);
  });

  it('says where the JSON breaks, and asks for something when the box is empty', () => {
    const broken = parseToolsText('[{"type": "function",, }]');
    expect(broken).toMatchObject({ ok: false, param: 'tools' });
    expect(!broken.ok && broken.message).toMatch(/^Not valid JSON: /);
    expect(parseToolsText('  ')).toMatchObject({ ok: false, message: 'Paste an array of function definitions, or insert the example.' });
    const example = parseToolsText(EXAMPLE_TOOLS);
    expect(example.ok && example.tools.map((t) => t.function.name)).toEqual(['get_weather']);
  });

  it('pretty-prints arguments that are JSON and keeps the others as written', () => {
    expect(prettyArguments('{"city": "Paris", "days": 3}')).toEqual({ text: '{\n  "city": "Paris",\n  "days": 3\n}', json: true });
    expect(prettyArguments('{"city": "Par')).toEqual({ text: '{"city": "Par', json: false });
  });
});
