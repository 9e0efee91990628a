/**
 * What of JSON Schema the grammar engine enforces. xgrammar compiles most of draft 2020-12 into a grammar but
 * silently ignores some keywords (multipleOf, uniqueItems, not, if/then/else, dependent*, contains) and aborts on
 * others; a schema using them would be "enforced" without being enforced. So a schema is checked before it is
 * compiled, and anything not on the list is a 400 naming the keyword and where it is.
 */
import { FleetError } from '../../common/errors';
import { CONSTRAINT_LIMITS } from '../../common/request-limits';
import { exactFormats } from './exact-formats';
import { normalizeNumberBounds } from './number-bounds';

/** Keywords that describe, and change nothing that must be enforced. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', '$anchor', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'strict', 'name']);

/** Keywords the grammar enforces. */
const ENFORCED = new Set([
  'type', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', '$ref', '$defs', 'definitions',
  'properties', 'required', 'additionalProperties', 'patternProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'items', 'prefixItems', 'minItems', 'maxItems',
  'minLength', 'maxLength', 'pattern', 'format',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
]);

const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);
/** String formats the grammar enforces (xgrammar 0.1.27 lets any string through for the others: idn-*, iri, regex, …). */
const FORMATS = new Set([
  'date', 'time', 'date-time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid',
  'uri', 'uri-reference', 'uri-template', 'json-pointer', 'relative-json-pointer',
]);
/** Keywords whose value is a map of name → schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
/** Keywords whose value is one schema (or a boolean). */
const SCHEMA_ONE = new Set(['items', 'additionalProperties', 'propertyNames']);

function refuse(path: string, message: string, param: string): never {
  throw new FleetError('invalid_request', `${param}: ${message} at ${path || '/'}`, { param });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNode(node: unknown, path: string, depth: number, param: string): void {
  if (typeof node === 'boolean') return;
  if (!isObject(node)) refuse(path, 'a schema must be an object or a boolean', param);
  if (depth > CONSTRAINT_LIMITS.maxSchemaDepth) refuse(path, `schema is nested deeper than ${CONSTRAINT_LIMITS.maxSchemaDepth} levels`, param);
  for (const [key, value] of Object.entries(node)) {
    const at = `${path}/${key}`;
    if (ANNOTATIONS.has(key)) continue;
    if (!ENFORCED.has(key)) refuse(path, `unsupported JSON Schema keyword '${key}' (constrained decoding cannot enforce it)`, param);
    if (key === 'type') {
      const types = Array.isArray(value) ? value : [value];
      for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) refuse(at, `unknown type ${JSON.stringify(t)}`, param);
    } else if (key === '$ref') {
      if (typeof value !== 'string' || !value.startsWith('#')) refuse(at, `only local references ('#/…') are supported, got ${JSON.stringify(value)}`, param);
    } else if (key === 'required' || key === 'enum') {
      if (!Array.isArray(value)) refuse(at, `'${key}' must be an array`, param);
    } else if (key === 'allOf') {
      if (!Array.isArray(value) || value.length !== 1) refuse(at, "'allOf' with more than one schema is not supported", param);
    } else if (key === 'pattern') {
      checkRegex(value, at, param);
    } else if (key === 'format') {
      if (typeof value !== 'string' || !FORMATS.has(value)) refuse(at, `unsupported string format ${JSON.stringify(value)} (enforced: ${[...FORMATS].join(', ')})`, param);
    } else if (SCHEMA_MAPS.has(key)) {
      if (!isObject(value)) refuse(at, `'${key}' must be an object`, param);
      for (const [name, child] of Object.entries(value)) {
        if (key === 'patternProperties') checkRegex(name, at, param);
        checkNode(child, `${at}/${name}`, depth + 1, param);
      }
    } else if (SCHEMA_LISTS.has(key)) {
      if (!Array.isArray(value) || value.length === 0) refuse(at, `'${key}' must be a non-empty array`, param);
      value.forEach((child, i) => checkNode(child, `${at}/${i}`, depth + 1, param));
    } else if (SCHEMA_ONE.has(key)) {
      checkNode(value, at, depth + 1, param);
    } else if (key !== 'const' && (typeof value !== 'number' || !Number.isFinite(value))) {
      refuse(at, `'${key}' must be a number`, param);
    }
  }
  checkSatisfiable(node, path, param);
}

/** Bounds the engine would abort on: more items or properties required than the schema lets exist. */
function checkSatisfiable(node: Record<string, unknown>, path: string, param: string): void {
  const minItems = typeof node.minItems === 'number' ? node.minItems : 0;
  const prefix = Array.isArray(node.prefixItems) ? node.prefixItems.length : 0;
  if (minItems > prefix && (node.items === undefined || node.items === false)) refuse(path, `minItems ${minItems} needs 'items' (no other items are allowed)`, param);
  const minProps = typeof node.minProperties === 'number' ? node.minProperties : 0;
  const props = isObject(node.properties) ? Object.keys(node.properties).length : 0;
  const more = node.additionalProperties !== undefined && node.additionalProperties !== false || node.patternProperties !== undefined;
  if (minProps > props && !more) refuse(path, `minProperties ${minProps} is more than the ${props} properties allowed`, param);
}

/** A regular expression the engine can parse (checked with JavaScript's parser first: the engine aborts on errors). */
export function checkRegex(pattern: unknown, path: string, param: string): void {
  if (typeof pattern !== 'string') refuse(path, 'a pattern must be a string', param);
  if (pattern.length > CONSTRAINT_LIMITS.maxRegexLength) refuse(path, `pattern is longer than ${CONSTRAINT_LIMITS.maxRegexLength} characters`, param);
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    refuse(path, `invalid regular expression: ${(err as Error).message}`, param);
  }
  if (/\(\?[=!<]|\\[1-9]|\\k</.test(pattern)) refuse(path, 'lookarounds and backreferences cannot be enforced while decoding', param);
}

/** Parses and checks a JSON Schema given as text; returns it re-serialised for the engine (the compile cache's key). */
export function checkJsonSchema(text: string, param: string): string {
  if (Buffer.byteLength(text) > CONSTRAINT_LIMITS.maxSchemaBytes) {
    throw new FleetError('invalid_request', `${param}: schema is larger than ${CONSTRAINT_LIMITS.maxSchemaBytes} bytes`, { param });
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    throw new FleetError('invalid_request', `${param}: schema is not valid JSON (${(err as Error).message})`, { param });
  }
  checkNode(schema, '', 0, param);
  normalizeNumberBounds(schema, '', param);
  exactFormats(schema);
  return JSON.stringify(schema);
}
