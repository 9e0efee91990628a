/**
 * Structured outputs: OpenAI's `response_format` (`text`, `json_object`, `json_schema` {name, schema, strict}) and
 * vLLM's `guided_json` / `guided_regex` / `guided_choice`, read into the worker's `Constraint` (enforced while
 * decoding). At most one of them per request. Sizes are checked here against the shared limits table; what the
 * grammar engine cannot enforce (a schema keyword, a regex feature) is refused by the worker, naming it.
 */
import type { Constraint } from '../../common/gen/worker';
import { CONSTRAINT_LIMITS } from '../../common/request-limits';
import { invalid, type Body } from './fields';

export const CONSTRAINT_FIELDS = ['response_format', 'guided_json', 'guided_regex', 'guided_choice'];

function schemaText(value: unknown, param: string): string {
  if (typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(param, 'must be a JSON Schema object');
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > CONSTRAINT_LIMITS.maxSchemaBytes) throw invalid(param, `schema is larger than ${CONSTRAINT_LIMITS.maxSchemaBytes} bytes`);
  return text;
}

function fromResponseFormat(format: unknown): Constraint | undefined {
  if (typeof format !== 'object' || format === null || Array.isArray(format)) throw invalid('response_format', 'must be an object');
  const f = format as Body;
  switch (f.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { kind: { $case: 'jsonObject', value: true } };
    case 'json_schema': {
      const spec = f.json_schema;
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('response_format.json_schema', 'must be an object with name and schema');
      const s = spec as Body;
      if (typeof s.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(s.name)) throw invalid('response_format.json_schema.name', 'must be 1-64 letters, digits, underscores or dashes');
      if (s.strict !== undefined && s.strict !== null && typeof s.strict !== 'boolean') throw invalid('response_format.json_schema.strict', 'must be a boolean');
      // No schema: any JSON object (OpenAI's default when the schema is omitted).
      if (s.schema === undefined) return { kind: { $case: 'jsonObject', value: true } };
      return { kind: { $case: 'jsonSchema', value: schemaText(s.schema, 'response_format.json_schema.schema') } };
    }
    default:
      throw invalid('response_format', `type ${JSON.stringify(f.type)} is not supported ("text", "json_object" or "json_schema")`);
  }
}

/** The request's constraint, if it asks for one. */
export function readConstraint(body: Body): Constraint | undefined {
  const given = CONSTRAINT_FIELDS.filter((k) => body[k] !== undefined && body[k] !== null);
  const asked = given.filter((k) => !(k === 'response_format' && (body[k] as Body).type === 'text'));
  if (asked.length > 1) throw invalid(asked[1], `cannot be combined with ${asked[0]}`);
  if (given.includes('response_format')) return fromResponseFormat(body.response_format);
  if (body.guided_json !== undefined && body.guided_json !== null) {
    let v: unknown = body.guided_json;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        throw invalid('guided_json', 'is not valid JSON');
      }
    }
    return { kind: { $case: 'jsonSchema', value: schemaText(v, 'guided_json') } };
  }
  if (body.guided_regex !== undefined && body.guided_regex !== null) {
    if (typeof body.guided_regex !== 'string' || body.guided_regex === '') throw invalid('guided_regex', 'must be a non-empty string');
    if (body.guided_regex.length > CONSTRAINT_LIMITS.maxRegexLength) throw invalid('guided_regex', `is longer than ${CONSTRAINT_LIMITS.maxRegexLength} characters`);
    return { kind: { $case: 'regex', value: body.guided_regex } };
  }
  if (body.guided_choice !== undefined && body.guided_choice !== null) {
    const c = body.guided_choice;
    if (!Array.isArray(c) || c.length === 0 || c.some((x) => typeof x !== 'string')) throw invalid('guided_choice', 'must be a non-empty array of strings');
    if (c.length > CONSTRAINT_LIMITS.maxChoices) throw invalid('guided_choice', `at most ${CONSTRAINT_LIMITS.maxChoices} choices`);
    return { kind: { $case: 'choice', value: { choices: c as string[] } } };
  }
  return undefined;
}
