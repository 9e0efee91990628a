/**
 * A checked, normalised JSON Schema (schema-check.ts) as xgrammar EBNF, with bounded integers compiled exactly.
 * xgrammar writes the grammar (objects, arrays, strings, formats, $ref, …) but its integer ranges leak (see
 * integer-range.ts), so every bounded integer is first replaced by a string constant no schema uses (a sentinel),
 * xgrammar converts the schema, and each sentinel's literal in its EBNF becomes a reference to our exact range rule.
 * Output: one-line JSON with ", " and ": " separators, no free whitespace, properties not in the schema refused.
 */
import { FleetError } from '../../common/errors';
import { integerRangeEbnf } from './integer-range';
import { xgrammar } from './xgrammar';

type Node = Record<string, unknown>;

/** Keywords whose values are data, not schemas. */
const DATA = new Set(['enum', 'const', 'default', 'examples', 'required']);

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Replaces bounded integer nodes (in place) with sentinels; returns each sentinel's [lo, hi]. */
function replaceIntegers(node: unknown, sentinel: (k: number) => string, ranges: Array<[number, number]>): unknown {
  if (Array.isArray(node)) return node.map((child) => replaceIntegers(child, sentinel, ranges));
  if (!isNode(node)) return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) out[key] = DATA.has(key) ? value : replaceIntegers(value, sentinel, ranges);
  const types = Array.isArray(out.type) ? (out.type as unknown[]) : [out.type];
  if (!types.includes('integer') || typeof out.minimum !== 'number' || typeof out.maximum !== 'number' || 'enum' in out || 'const' in out) return out;
  const k = ranges.length;
  ranges.push([out.minimum, out.maximum]);
  const exact = { const: sentinel(k) };
  const rest = types.filter((t) => t !== 'integer');
  if (rest.length === 0) return exact;
  const { minimum: _lo, maximum: _hi, ...others } = out;
  return { anyOf: [exact, { ...others, type: rest.length === 1 ? rest[0] : rest }] };
}

/** The EBNF (root rule `root`) of a schema already checked and normalised by checkJsonSchema. */
export async function jsonSchemaEbnf(schemaText: string): Promise<string> {
  let prefix = 'fleetchat_int_';
  while (schemaText.includes(prefix)) prefix = `${prefix}x_`;
  const sentinel = (k: number): string => `${prefix}${k}_`;
  const ranges: Array<[number, number]> = [];
  const replaced = JSON.stringify(replaceIntegers(JSON.parse(schemaText), sentinel, ranges));
  const grammar = await xgrammar().Grammar.fromJSONSchema(replaced, false, -1, [', ', ': '], true);
  let ebnf: string;
  try {
    ebnf = grammar.toString();
  } finally {
    grammar.dispose();
  }
  if (ranges.length === 0) return ebnf;
  if (ebnf.includes(`${prefix}rule`)) throw new FleetError('internal', `grammar already has rules named ${prefix}rule*`);
  const rules = ranges.map(([lo, hi], k) => {
    ebnf = ebnf.split(`"\\"${sentinel(k)}\\""`).join(`${prefix}rule${k}`);
    return `${prefix}rule${k} ::= ${integerRangeEbnf(lo, hi)}`;
  });
  if (ebnf.includes(`"\\"${prefix}`)) throw new FleetError('internal', 'an integer sentinel was left in the grammar (xgrammar wrote a constant differently)');
  return `${ebnf.trimEnd()}\n${rules.join('\n')}\n`;
}
