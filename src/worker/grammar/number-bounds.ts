/**
 * Numeric bounds, rewritten into what we can enforce exactly. xgrammar 0.1.27's numeric ranges leak: one-sided
 * ranges admit values outside them (`minimum: 7` accepts 1), decimal ranges admit fractions past an inclusive bound
 * (`maximum: 1` accepts 1.97) and exclusive bounds themselves, and even two-sided integer ranges leak
 * (`[-5, 120]` accepts 125). So every bounded `integer` or `number` becomes a two-sided integer range, which
 * schema-ebnf.ts compiles with our own exact range grammar: each output is still valid against the original schema
 * (an integer inside the bounds is a number inside them); bounded numbers lose their fractions.
 */
import { FleetError } from '../../common/errors';

/** Stand-in for a missing bound (inside the range the engine's integer rules handle). */
const FAR = 999_999_999;
const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const;

function integerRange(node: Record<string, unknown>, path: string, param: string): [number, number] {
  const num = (k: string): number | undefined => (typeof node[k] === 'number' ? (node[k]) : undefined);
  let lo = -FAR;
  let hi = FAR;
  const min = num('minimum');
  const max = num('maximum');
  const xmin = num('exclusiveMinimum');
  const xmax = num('exclusiveMaximum');
  if (min !== undefined) lo = Math.max(lo, Math.ceil(min));
  if (xmin !== undefined) lo = Math.max(lo, Math.floor(xmin) + 1);
  if (max !== undefined) hi = Math.min(hi, Math.floor(max));
  if (xmax !== undefined) hi = Math.min(hi, Math.ceil(xmax) - 1);
  if (lo > hi) {
    throw new FleetError('invalid_request', `${param}: numeric bounds at ${path || '/'} contain no integer (bounded numbers are generated as integers)`, { param });
  }
  return [lo, hi];
}

/** Rewrites bounded integer / number schemas in place (the schema was checked by schema-check first). */
export function normalizeNumberBounds(node: unknown, path: string, param: string): void {
  if (Array.isArray(node)) {
    node.forEach((child, i) => normalizeNumberBounds(child, `${path}/${i}`, param));
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  const types = Array.isArray(obj.type) ? (obj.type as unknown[]) : [obj.type];
  const numeric = types.includes('integer') || types.includes('number');
  if (numeric && BOUNDS.some((k) => typeof obj[k] === 'number')) {
    const [lo, hi] = integerRange(obj, path, param);
    for (const k of BOUNDS) delete obj[k];
    obj.minimum = lo;
    obj.maximum = hi;
    obj.type = Array.isArray(obj.type) ? [...new Set(types.map((t) => (t === 'number' ? 'integer' : t)))] : 'integer';
  }
  for (const [key, child] of Object.entries(obj)) {
    if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples') continue;
    normalizeNumberBounds(child, `${path}/${key}`, param);
  }
}
