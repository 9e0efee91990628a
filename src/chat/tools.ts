/**
 * OpenAI tool definitions (`tools: [{type: 'function', function: {name, description?, parameters?, strict?}}]`) and
 * `tool_choice` (`auto` | `none` | `required` | `{type: 'function', function: {name}}`), validated with the limits of
 * TOOL_LIMITS / CONSTRAINT_LIMITS. The gateway checks a request with these before dispatch; the worker checks the
 * same again (it may be called by any gRPC client). Every failure is FleetError('invalid_request') naming the field.
 */
import { FleetError } from '../common/errors';
import { CONSTRAINT_LIMITS, TOOL_LIMITS } from '../common/request-limits';

export interface ToolFunction {
  readonly name: string;
  readonly description?: string;
  /** The arguments' JSON Schema (an empty object schema when the tool declares none). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly strict?: boolean;
}

export type ToolChoice = { readonly kind: 'auto' } | { readonly kind: 'none' } | { readonly kind: 'required' } | { readonly kind: 'function'; readonly name: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(param: string, message: string): FleetError {
  return new FleetError('invalid_request', `${param}: ${message}`, { param });
}

function rejectUnknownKeys(value: JsonObject, allowed: readonly string[], param: string): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw invalid(`${param}.${unknown[0]}`, `is not supported (allowed: ${allowed.join(', ')})`);
}

/** A function name as OpenAI allows it. */
export function checkToolName(name: unknown, param: string): string {
  if (typeof name !== 'string' || !TOOL_LIMITS.namePattern.test(name)) {
    throw invalid(param, `must be 1 to 64 letters, digits, underscores or dashes, got ${JSON.stringify(name)?.slice(0, 80)}`);
  }
  return name;
}

function parseFunction(value: unknown, param: string): ToolFunction {
  if (!isObject(value)) throw invalid(param, 'must be an object {name, description?, parameters?}');
  rejectUnknownKeys(value, ['name', 'description', 'parameters', 'strict'], param);
  const name = checkToolName(value.name, `${param}.name`);
  const description = value.description;
  if (description !== undefined && description !== null && typeof description !== 'string') throw invalid(`${param}.description`, 'must be a string');
  if (typeof description === 'string' && description.length > TOOL_LIMITS.maxDescriptionChars) {
    throw invalid(`${param}.description`, `at most ${TOOL_LIMITS.maxDescriptionChars} characters`);
  }
  const parameters = value.parameters ?? { type: 'object', properties: {} };
  if (!isObject(parameters)) throw invalid(`${param}.parameters`, 'must be a JSON Schema object');
  if (value.strict !== undefined && value.strict !== null && typeof value.strict !== 'boolean') throw invalid(`${param}.strict`, 'must be a boolean');
  return {
    name,
    ...(typeof description === 'string' ? { description } : {}),
    parameters,
    ...(typeof value.strict === 'boolean' ? { strict: value.strict } : {}),
  };
}

/** Validates an OpenAI `tools` array (undefined / null / [] → []). */
export function parseToolDefinitions(value: unknown, param = 'tools'): ToolFunction[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(param, 'must be an array of {type: "function", function: {...}}');
  if (value.length > CONSTRAINT_LIMITS.maxTools) throw invalid(param, `at most ${CONSTRAINT_LIMITS.maxTools} tools, got ${value.length}`);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > CONSTRAINT_LIMITS.maxSchemaBytes) throw invalid(param, `is ${bytes} bytes of JSON; at most ${CONSTRAINT_LIMITS.maxSchemaBytes}`);
  const seen = new Set<string>();
  return value.map((tool, i) => {
    const where = `${param}[${i}]`;
    if (!isObject(tool)) throw invalid(where, 'must be an object {type: "function", function: {...}}');
    rejectUnknownKeys(tool, ['type', 'function'], where);
    if (tool.type !== 'function') throw invalid(`${where}.type`, `must be "function", got ${JSON.stringify(tool.type)}`);
    const fn = parseFunction(tool.function, `${where}.function`);
    if (seen.has(fn.name)) throw invalid(`${where}.function.name`, `'${fn.name}' is defined twice`);
    seen.add(fn.name);
    return fn;
  });
}

/** Validates `tool_choice` against the tools (default: auto with tools, none without). */
export function parseToolChoice(value: unknown, tools: readonly ToolFunction[], param = 'tool_choice'): ToolChoice {
  if (value === undefined || value === null) return { kind: tools.length > 0 ? 'auto' : 'none' };
  if (value === 'auto' || value === 'none' || value === 'required') {
    if (value === 'required' && tools.length === 0) throw invalid(param, '"required" needs tools');
    return { kind: value };
  }
  if (!isObject(value) || value.type !== 'function' || !isObject(value.function)) {
    throw invalid(param, 'must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}');
  }
  const name = checkToolName(value.function.name, `${param}.function.name`);
  if (!tools.some((t) => t.name === name)) throw invalid(`${param}.function.name`, `'${name}' is not one of the tools`);
  return { kind: 'function', name };
}

/** The tools in OpenAI's wire shape, as chat templates receive them. */
export function toolsForTemplate(tools: readonly ToolFunction[]): Array<{ type: 'function'; function: ToolFunction }> {
  return tools.map((t) => ({ type: 'function', function: t }));
}
