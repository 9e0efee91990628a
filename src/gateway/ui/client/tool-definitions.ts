/**
 * The Tools panel's text, read as OpenAI's `tools` array and checked in the browser with the gateway's rules (the
 * chat library's parseToolDefinitions: the same fields, limits and names in the messages; a unit test keeps the two
 * in step), so a mistake is shown while typing rather than as a 400 after sending. Pure (no DOM): tested under Node.
 */

/** The gateway's limits (CONSTRAINT_LIMITS.maxTools / maxSchemaBytes, TOOL_LIMITS): equal, tested. */
export const TOOLS_LIMITS = { maxTools: 128, maxBytes: 64 * 1024, maxDescriptionChars: 8192, namePattern: /^[A-Za-z0-9_-]{1,64}$/ } as const;

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type ToolsCheck = { ok: true; tools: ToolDefinition[] } | { ok: false; param: string; message: string };

/** A starting point: one function with an enum and a bounded integer. */
export const EXAMPLE_TOOLS = `[
  {
    "type": "function",
    "function": {
      "name": "get_weather",
      "description": "The current weather in a city",
      "parameters": {
        "type": "object",
        "properties": {
          "city": { "type": "string", "description": "City name, e.g. Paris" },
          "unit": { "enum": ["celsius", "fahrenheit"] },
          "days": { "type": "integer", "minimum": 1, "maximum": 7 }
        },
        "required": ["city", "unit", "days"],
        "additionalProperties": false
      }
    }
  }
]`;

class Invalid extends Error {
  constructor(readonly param: string, message: string) {
    super(`${param}: ${message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], param: string): void {
  const extra = Object.keys(value).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw new Invalid(`${param}.${extra}`, `is not supported (allowed: ${allowed.join(', ')})`);
}

function readFunction(value: unknown, param: string): ToolDefinition['function'] {
  if (!isObject(value)) throw new Invalid(param, 'must be an object {name, description?, parameters?}');
  onlyKeys(value, ['name', 'description', 'parameters', 'strict'], param);
  const { name, description, parameters, strict } = value;
  if (typeof name !== 'string' || !TOOLS_LIMITS.namePattern.test(name)) {
    throw new Invalid(`${param}.name`, `must be 1 to 64 letters, digits, underscores or dashes, got ${JSON.stringify(name)?.slice(0, 80) ?? 'nothing'}`);
  }
  if (description !== undefined && description !== null && typeof description !== 'string') throw new Invalid(`${param}.description`, 'must be a string');
  if (typeof description === 'string' && description.length > TOOLS_LIMITS.maxDescriptionChars) throw new Invalid(`${param}.description`, `at most ${TOOLS_LIMITS.maxDescriptionChars} characters`);
  if (parameters !== undefined && parameters !== null && !isObject(parameters)) throw new Invalid(`${param}.parameters`, 'must be a JSON Schema object');
  if (strict !== undefined && strict !== null && typeof strict !== 'boolean') throw new Invalid(`${param}.strict`, 'must be a boolean');
  return {
    name,
    ...(typeof description === 'string' ? { description } : {}),
    ...(isObject(parameters) ? { parameters } : {}),
    ...(typeof strict === 'boolean' ? { strict } : {}),
  };
}

/** Checks a parsed `tools` value as the gateway does. */
export function checkTools(value: unknown): ToolsCheck {
  try {
    if (!Array.isArray(value)) throw new Invalid('tools', 'must be an array of {type: "function", function: {...}}');
    if (value.length > TOOLS_LIMITS.maxTools) throw new Invalid('tools', `at most ${TOOLS_LIMITS.maxTools} tools, got ${value.length}`);
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
    if (bytes > TOOLS_LIMITS.maxBytes) throw new Invalid('tools', `is ${bytes} bytes of JSON; at most ${TOOLS_LIMITS.maxBytes}`);
    const seen = new Set<string>();
    const tools = value.map((tool: unknown, i): ToolDefinition => {
      const where = `tools[${i}]`;
      if (!isObject(tool)) throw new Invalid(where, 'must be an object {type: "function", function: {...}}');
      onlyKeys(tool, ['type', 'function'], where);
      if (tool.type !== 'function') throw new Invalid(`${where}.type`, `must be "function", got ${JSON.stringify(tool.type) ?? 'nothing'}`);
      const fn = readFunction(tool.function, `${where}.function`);
      if (seen.has(fn.name)) throw new Invalid(`${where}.function.name`, `'${fn.name}' is defined twice`);
      seen.add(fn.name);
      return { type: 'function', function: fn };
    });
    return { ok: true, tools };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, param: err.param, message: err.message };
    throw err;
  }
}

/** Reads the panel's text: JSON first (the parser's message says where it broke), then the checks above. */
export function parseToolsText(text: string): ToolsCheck {
  if (text.trim() === '') return { ok: false, param: 'tools', message: 'Paste an array of function definitions, or insert the example.' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, param: 'tools', message: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  return checkTools(value);
}

/** Arguments as the card shows them: indented JSON, or the text as written when it is not JSON. */
export function prettyArguments(text: string): { text: string; json: boolean } {
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), json: true };
  } catch {
    return { text, json: false };
  }
}
